import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { anthropicAdapter } from './adapter.ts';

const NOW_SECONDS = 1_750_000_000;
const capture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(import.meta.dirname, '__fixtures__', name)));
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW_SECONDS * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Anthropic adapter: whole answers', () => {
  it('reads thinking, text and two tool calls with their ids, stop reason and cache usage', () => {
    expect(anthropicAdapter.parseChatResponse(capture('message-tool-use.json'))).toEqual({
      id: 'msg_01WholeToolUseWithThinking',
      model: 'claude-sonnet-4-5-20250929',
      created: NOW_SECONDS,
      choices: [
        {
          index: 0,
          text: 'Let me check both cities.',
          reasoning: 'The user wants the weather in two cities.',
          refusal: null,
          toolCalls: [
            { id: 'toolu_01ParisWeatherWhole', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
            { id: 'toolu_01LyonWeatherWhole', name: 'get_weather', arguments: '{"location":"Lyon, France"}' },
          ],
          finishReason: 'tool_calls',
          reasoningBlocks: [
            { type: 'thinking', text: 'The user wants the weather in two cities.', signature: 'EqQBCkgIBhABGAIiQWholeSignatureForTestsOnly' },
            { type: 'redacted', data: 'EmwKAhgBEgyWholeRedactedForTestsOnly' },
          ],
        },
      ],
      usage: usage({ input: 57, cachedInput: 4096, cacheWrite: 1024, output: 163 }),
    });
  });

  it('reads a plain text answer stopped by a stop sequence', () => {
    expect(anthropicAdapter.parseChatResponse(capture('message-text.json'))).toEqual({
      id: 'msg_01WholeTextStopSequence',
      model: 'claude-haiku-4-5-20251001',
      created: NOW_SECONDS,
      choices: [{ index: 0, text: 'Paris is the capital of France.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop', stopSequence: '\n\nHuman:' }],
      usage: usage({ input: 16, output: 9 }),
    });
  });

  it.each([
    ['max_tokens', 'length'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ])('reads stop reason %s as %s', (stopReason, finishReason) => {
    expect(anthropicAdapter.parseChatResponse(bytes({ id: 'm', content: [], stop_reason: stopReason })).choices[0]!.finishReason).toBe(finishReason);
  });

  it('keeps a thinking block without a signature as unsigned, and reports no usage when the counts are missing', () => {
    const response = anthropicAdapter.parseChatResponse(bytes({ content: [{ type: 'thinking', thinking: 'hm', signature: '' }], usage: { input_tokens: 3 } }));
    expect(response.choices[0]!.reasoningBlocks).toEqual([{ type: 'thinking', text: 'hm', signature: null }]);
    expect(response.usage).toBeNull();
  });

  it.each([
    ['a body that is not JSON', 'Internal Server Error'],
    ['JSON that is not an object', '[1]'],
    ['an error object answered with 200', '{"type":"error","error":{"type":"api_error","message":"boom"}}'],
  ])('refuses %s with UpstreamFormatError', (_what, body) => {
    expect(() => anthropicAdapter.parseChatResponse(bytes(body))).toThrow(UpstreamFormatError);
  });

  it('never throws on hostile content, and reads only what it can (property)', () => {
    const block = fc.oneof(
      fc.jsonValue(),
      fc.record({ type: fc.constantFrom('text', 'thinking', 'redacted_thinking', 'tool_use', 'server_tool_use'), text: fc.jsonValue(), thinking: fc.jsonValue(), signature: fc.jsonValue(), data: fc.jsonValue(), id: fc.jsonValue(), name: fc.jsonValue(), input: fc.jsonValue() }, { requiredKeys: ['type'] }),
    );
    fc.assert(
      fc.property(fc.record({ id: fc.jsonValue(), content: fc.oneof(fc.array(block, { maxLength: 8 }), fc.jsonValue()), stop_reason: fc.jsonValue(), usage: fc.jsonValue() }, { requiredKeys: [] }), (payload) => {
        const response = anthropicAdapter.parseChatResponse(bytes(payload));
        expect(response.choices).toHaveLength(1);
        for (const call of response.choices[0]!.toolCalls) expect(JSON.parse(call.arguments)).toBeTypeOf('object');
      }),
      { numRuns: 300 },
    );
  });

  it('reads at most 128 tool calls', () => {
    const content = Array.from({ length: 200 }, (_, i) => ({ type: 'tool_use', id: `toolu_${i}`, name: 'f', input: {} }));
    expect(anthropicAdapter.parseChatResponse(bytes({ content })).choices[0]!.toolCalls).toHaveLength(128);
  });
});

describe('Anthropic adapter: errors for operators', () => {
  it("reads Anthropic's error body: status, type and message", () => {
    expect(anthropicAdapter.describeError(529, capture('error-overloaded.json'))).toBe('HTTP 529: overloaded_error / Overloaded');
  });

  it('masks key-like text in the message', () => {
    const body = bytes({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(anthropicAdapter.describeError(401, body)).not.toContain('AAAAAAAAAAAAAAAA');
  });
});
