import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { openAIResponsesAdapter } from './adapter.ts';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const capture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(import.meta.dirname, '__fixtures__', name)));
const parse = (value: unknown) => openAIResponsesAdapter.parseChatResponse(bytes(value));

afterEach(() => {
  vi.useRealTimers();
});

describe('Responses adapter: parseChatResponse on recorded answers', () => {
  it('reads a text answer', () => {
    expect(openAIResponsesAdapter.parseChatResponse(capture('response-text.json'))).toEqual({
      id: 'resp_68b1c0ffee0010whole',
      model: 'gpt-4.1-2025-04-14',
      created: 1756301000,
      choices: [{ index: 0, text: 'Paris is the capital of France.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' }],
      usage: usage({ input: 14, output: 8 }),
    });
  });

  it('reads parallel function calls by their call ids, and splits cached and reasoning tokens out', () => {
    expect(openAIResponsesAdapter.parseChatResponse(capture('response-function-calls.json'))).toEqual({
      id: 'resp_68b1c0ffee0011calls',
      model: 'o4-mini-2025-04-16',
      created: 1756301100,
      choices: [
        {
          index: 0,
          text: null,
          // An empty summary is no reasoning text.
          reasoning: null,
          refusal: null,
          toolCalls: [
            { id: 'call_Yz1AbCdEf2GhIjKlMn3OpQ', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
            { id: 'call_Rs4TuVwXyZ5aBcDeFg6HiJ', name: 'get_local_time', arguments: '{"timezone":"Europe/Paris"}' },
          ],
          finishReason: 'tool_calls',
        },
      ],
      usage: usage({ input: 56, cachedInput: 64, output: 26, reasoning: 64 }),
    });
  });

  it('reads an answer cut at max_output_tokens as length', () => {
    const parsed = openAIResponsesAdapter.parseChatResponse(capture('response-incomplete.json'));
    expect([parsed.choices[0]!.text, parsed.choices[0]!.finishReason, parsed.usage]).toEqual(["The novel's themes are pride and", 'length', usage({ input: 40, output: 16 })]);
  });
});

describe('Responses adapter: parseChatResponse', () => {
  const response = { id: 'resp_1', object: 'response', created_at: 1_756_000_000, model: 'gpt-x', status: 'completed' };

  it('joins text parts and messages in order, refusals apart, and reasoning summaries by blank lines', () => {
    const parsed = parse({
      ...response,
      output: [
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'one' }, { type: 'summary_text', text: 'two' }] },
        { type: 'message', content: [{ type: 'output_text', text: 'Hel' }, { type: 'refusal', refusal: 'nope' }, { type: 'output_text', text: 'lo' }] },
        { type: 'message', content: [{ type: 'output_text', text: '!' }] },
        { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'raw' }] },
      ],
    });
    expect(parsed.choices).toEqual([{ index: 0, text: 'Hello!', reasoning: 'one\n\ntwo\n\nraw', refusal: 'nope', toolCalls: [], finishReason: 'stop' }]);
  });

  it('gives a function call without a call_id its item id, else a position; one without a name is skipped', () => {
    const parsed = parse({
      ...response,
      output: [
        { type: 'function_call', id: 'fc_1', name: 'a', arguments: '{}' },
        { type: 'function_call', name: 'b' },
        { type: 'function_call', call_id: 'call_x', arguments: '{}' },
      ],
    });
    expect(parsed.choices[0]!.toolCalls).toEqual([{ id: 'fc_1', name: 'a', arguments: '{}' }, { id: 'call_1', name: 'b', arguments: '' }]);
  });

  it('reads a content-filtered answer, and skips built-in tool items', () => {
    const parsed = parse({
      ...response,
      status: 'incomplete',
      incomplete_details: { reason: 'content_filter' },
      output: [{ type: 'web_search_call', id: 'ws_1', status: 'completed' }, { type: 'message', content: [{ type: 'output_text', text: 'x' }] }],
    });
    expect(parsed.choices).toEqual([{ index: 0, text: 'x', reasoning: null, refusal: null, toolCalls: [], finishReason: 'content_filter' }]);
  });

  it('refuses a failed response, with the provider’s words sanitised for operators', () => {
    const failed = { ...response, status: 'failed', error: { code: 'server_error', message: 'boom for key sk-proj-abcdefghijklmnopqrstuvwxyz012345' }, output: [] };
    expect(() => parse(failed)).toThrow(new UpstreamFormatError('the provider reported the response failed: server_error boom for key sk-[redacted]'));
  });

  it('answers nothing for an object without an output list, and refuses what is not a JSON object', () => {
    expect(parse({ ...response, output: 'x' }).choices).toEqual([]);
    expect(parse({ object: 'chat.completion', choices: [] }).choices).toEqual([]);
    expect(() => parse('not json')).toThrow(UpstreamFormatError);
    expect(() => parse('[1]')).toThrow(UpstreamFormatError);
    expect(() => parse('null')).toThrow(UpstreamFormatError);
  });

  it('stamps a response without a creation time with the clock, and reads a float one', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_750_000_000_500);
    expect(parse({ id: 'r', output: [] }).created).toBe(1_750_000_000);
    expect(parse({ id: 'r', created_at: 1_756_000_000.75, output: [] }).created).toBe(1_756_000_000);
  });

  it('never throws anything but UpstreamFormatError, whatever JSON comes (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ status: fc.jsonValue(), output: fc.array(fc.record({ type: fc.constantFrom('message', 'function_call', 'reasoning'), content: fc.jsonValue(), summary: fc.jsonValue(), name: fc.jsonValue(), call_id: fc.jsonValue(), arguments: fc.jsonValue() }, { requiredKeys: ['type'] })), usage: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
        let thrown: unknown = null;
        let choices = 0;
        try {
          choices = parse(value).choices.length;
        } catch (error) {
          thrown = error;
        }
        expect(thrown === null || thrown instanceof UpstreamFormatError).toBe(true);
        expect(choices).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Responses adapter: describeError', () => {
  it('reads OpenAI’s error bodies, sanitised', () => {
    expect(openAIResponsesAdapter.describeError(429, capture('error-rate-limit.json'))).toBe(
      'HTTP 429: tokens / rate_limit_exceeded / Rate limit reached for gpt-4.1 in organization org-AbC123 on tokens per min (TPM): Limit 30000, Used 29990, Requested 220. Please try again in 420ms. Visit https:[redacted] to learn more.',
    );
    // OpenAI masks the key it quotes to its last 4 characters, which operators may see; the URL goes.
    expect(openAIResponsesAdapter.describeError(401, capture('error-invalid-api-key.json'))).toBe(
      `HTTP 401: invalid_request_error / invalid_api_key / Incorrect API key provided: sk-proj-${'*'.repeat(152)}wxYz. You can find your API key at https:[redacted]`,
    );
  });

  it('says only the status for a body that is not JSON', () => {
    expect(openAIResponsesAdapter.describeError(502, bytes('<html>Bad gateway</html>'))).toBe('HTTP 502 (non-JSON error body, 24 bytes)');
  });
});
