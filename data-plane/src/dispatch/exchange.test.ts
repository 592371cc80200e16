import { openAIAdapter, type ChatMessage } from '@tollgate/shared';
import { apiKeyTarget, bodyJson, chatRequest } from '@tollgate/shared/providers/testing/requests';
import { describe, expect, it } from 'vitest';
import type { Candidate } from '../routing/candidate.ts';
import { chatExchange } from './exchange.ts';

describe('chatExchange', () => {
  const candidate = { adapter: openAIAdapter, target: apiKeyTarget('openai', 'https://api.openai.com/v1', 'gpt-4o', 'sk-test-0123') } as Candidate;
  const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null }];
  const sent = '[ {"role":"user", "content":"Hi"} ]';

  it('prepares the first call from the client\'s bytes and lets them go; a retry serialises the same JSON', () => {
    const request = chatRequest({ messages, sourceMessages: { value: JSON.parse(sent) as unknown, bytes: new TextEncoder().encode(sent) } });
    const exchange = chatExchange(request, 'openai-chat');
    const before = exchange.prepare(candidate);
    expect(new TextDecoder().decode(before.body as Uint8Array)).toBe(`{"messages":${sent},"model":"gpt-4o"}`);
    expect(request.sourceMessages).toBeNull();

    const after = exchange.prepare(candidate);
    expect(after.body).toBe('{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}');
    expect(bodyJson(after)).toEqual(bodyJson(before));
  });
});
