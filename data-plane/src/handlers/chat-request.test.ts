import { describe, expect, it } from 'vitest';
import { parseChatRequest } from './chat-request.ts';

const parse = (value: unknown) => parseChatRequest(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const messages = [{ role: 'user', content: 'hi' }];

describe('parseChatRequest', () => {
  it('reads what the gateway relies on and leaves the rest to the provider', () => {
    const request = parse({ model: 'resale/m', messages, stream: true, max_completion_tokens: 50, stream_options: { include_usage: true }, temperature: 0.2 });
    expect(request).toMatchObject({ model: 'resale/m', stream: true, maxTokens: 50, wantsUsage: true });
    expect(request.body.temperature).toBe(0.2);
    expect(parse({ model: 'm', messages })).toMatchObject({ stream: false, maxTokens: null, wantsUsage: false });
  });

  it.each([
    ['{"model":', 'invalid_json', null],
    ['"a string"', 'invalid_json', null],
    ['[]', 'invalid_json', null],
    [{ messages }, 'invalid_request', 'model'],
    [{ model: '', messages }, 'invalid_request', 'model'],
    [{ model: 'm' }, 'invalid_request', 'messages'],
    [{ model: 'm', messages: [] }, 'invalid_request', 'messages'],
    [{ model: 'm', messages, stream: 'yes' }, 'invalid_request', 'stream'],
    [{ model: 'm', messages, max_tokens: 0 }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', messages, max_tokens: 1.5 }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', messages, max_completion_tokens: '10' }, 'invalid_request', 'max_completion_tokens'],
  ])('refuses %j with %s (param %s)', (body, code, param) => {
    expect(() => parse(body)).toThrow(expect.objectContaining({ code, param, status: 400 }));
  });
});
