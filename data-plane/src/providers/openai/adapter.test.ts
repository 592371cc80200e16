import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../http/sse.ts';
import { openAIAdapter } from './adapter.ts';

const capture = readFileSync(join(import.meta.dirname, '__fixtures__', 'chat-stream-include-usage.sse'));

function replay(clientWantsUsage: boolean) {
  const parser = new SseParser();
  const events = [...parser.push(capture), ...parser.end()];
  return events.map((event) => ({ event, info: openAIAdapter.parseStreamEvent(event, clientWantsUsage) }));
}

describe('OpenAI adapter', () => {
  it('reads text and reported usage from a recorded stream', () => {
    const replayed = replay(true);
    expect(replayed.map((r) => r.info.text).join('')).toBe('Bonjour à tous 👋');
    expect(replayed.flatMap((r) => (r.info.usage ? [r.info.usage] : []))).toEqual([{ inputTokens: 21, outputTokens: 6 }]);
    expect(replayed.every((r) => r.info.forward)).toBe(true);
  });

  it('drops only the usage chunk when the client did not ask for usage', () => {
    const dropped = replay(false).filter((r) => !r.info.forward);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.event.type === 'data' && JSON.parse(dropped[0]!.event.data).choices).toEqual([]);
  });

  it('builds the upstream request with the upstream model, the channel key and usage reporting', () => {
    const request = openAIAdapter.buildRequest({
      body: { model: 'resale/gpt', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { foo: 1 } },
      upstreamModel: 'gpt-4o-mini-2024-07-18',
      apiKey: 'sk-channel',
      basePath: '/v1',
      stream: true,
    });
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-channel');
    expect(JSON.parse(request.body)).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', stream_options: { foo: 1, include_usage: true } });
  });

  it('reads a whole response, and reports no usage when the provider gives none or garbage', () => {
    const body = (usage: unknown) => Buffer.from(JSON.stringify({ choices: [{ message: { content: 'Hi there' } }], usage }));
    expect(openAIAdapter.parseResponse(body({ prompt_tokens: 5, completion_tokens: 2 }))).toEqual({ usage: { inputTokens: 5, outputTokens: 2 }, text: 'Hi there' });
    expect(openAIAdapter.parseResponse(body(undefined)).usage).toBeNull();
    expect(openAIAdapter.parseResponse(body({ prompt_tokens: -1, completion_tokens: 2 })).usage).toBeNull();
    expect(openAIAdapter.parseResponse(body({ prompt_tokens: '5', completion_tokens: 2 })).usage).toBeNull();
  });

  it('reads hostile or odd payloads as no text and no usage instead of throwing', () => {
    const data = (text: string) => ({ type: 'data' as const, data: text, event: null, id: null });
    for (const text of ['null', '5', '"x"', '[]', '{"choices":5}', '{"choices":[null]}', '{"choices":[{"delta":null}]}', '{"choices":[{"delta":{"content":7}}]}', '{"usage":"x"}', '{"usage":{"prompt_tokens":1e400,"completion_tokens":1}}', 'not json']) {
      expect(openAIAdapter.parseStreamEvent(data(text), false), text).toEqual({ text: '', usage: null, forward: true });
    }
    expect(openAIAdapter.parseResponse(Buffer.from('null'))).toEqual({ usage: null, text: '' });
    expect(openAIAdapter.parseResponse(Buffer.from('{"choices":[null,{"message":{"content":"ok"}}]}'))).toEqual({ usage: null, text: 'ok' });
    expect(() => openAIAdapter.parseResponse(Buffer.from('{oops'))).toThrow(SyntaxError);
  });
});
