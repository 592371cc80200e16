import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatResponse } from '../../canonical/chat.ts';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { geminiAdapter } from './adapter.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const CREATED = NOW.getTime() / 1000;
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const capture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(import.meta.dirname, '__fixtures__', name)));
const parse = (body: Uint8Array): ChatResponse => geminiAdapter.parseChatResponse(body);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

const SIGNATURE = 'CiQB0e2Kb7Q3mZx1c0FqVh8yG2sZkq9XbWn4Tt1pLr6uEo0dYcYKYgHR7Yoz1j3C9aQm2hN0bX5sVwq8LkF7tJ3zPq1MNr6eUo2cWd9AaS4fGh8jKl0=';

describe('Gemini adapter: whole answers from recorded captures', () => {
  it('reads cached-content usage: the prompt count includes the cached tokens', () => {
    expect(parse(capture('response-cached-content.json'))).toEqual({
      id: 'cAChEdZmJ6y8nvgPwoDZsQ4',
      model: 'gemini-2.5-flash',
      created: CREATED,
      choices: [
        { index: 0, text: 'Section 4.2 caps the liability at twelve months of fees, except for breaches of confidentiality.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' },
      ],
      // 4810 prompt tokens of which 4096 read from the cache.
      usage: usage({ input: 714, cachedInput: 4096, output: 52 }),
    });
  });

  it('reads parallel function calls with derived ids, the signature, and the thought summary', () => {
    expect(parse(capture('response-parallel-function-calls.json'))).toEqual({
      id: 'Ab3dRmVyb0Jc-8QP4sKwqAw',
      model: 'gemini-2.5-flash',
      created: CREATED,
      choices: [
        {
          index: 0,
          text: null,
          reasoning: '**Planning the lookups**\n\nThe user wants the weather and the local time in Paris.',
          refusal: null,
          toolCalls: [
            { id: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_0', name: 'get_weather', arguments: '{"location":"Paris, France"}', signature: SIGNATURE },
            { id: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_1', name: 'get_local_time', arguments: '{"timezone":"Europe/Paris"}' },
          ],
          finishReason: 'tool_calls',
        },
      ],
      usage: usage({ input: 82, output: 31, reasoning: 64 }),
    });
  });

  it('gives the calls the same ids streamed or not', async () => {
    const whole = parse(capture('response-parallel-function-calls.json')).choices[0]?.toolCalls.map((c) => c.id);
    const decoder = geminiAdapter.newStreamDecoder({ maxFrameChars: 1 << 20 });
    const streamed = [...decoder.push(capture('stream-parallel-function-calls.sse')), ...decoder.end()].flatMap((f) => f.events).flatMap((e) => (e.type === 'tool_call' ? [e.id] : []));
    expect(whole).toEqual(streamed);
  });

  it('reads each candidate as a choice with its own finish reason', () => {
    expect(parse(capture('response-two-candidates.json'))).toEqual({
      id: 'nE8qaJ6yKM3mnvgPkZ-x2Ac',
      model: 'gemini-2.0-flash',
      created: CREATED,
      choices: [
        { index: 0, text: 'A quiet harbour at dawn.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' },
        { index: 1, text: 'Gulls circle the', reasoning: null, refusal: null, toolCalls: [], finishReason: 'length' },
      ],
      usage: usage({ input: 11, output: 12 }),
    });
  });

  it('reads a refused prompt as one empty choice stopped by the content filter', () => {
    expect(parse(capture('response-prompt-blocked.json'))).toEqual({
      id: 'bL0kaP2vDc6gnvgPyJ7YyA0',
      model: 'gemini-2.5-flash',
      created: CREATED,
      choices: [{ index: 0, text: null, reasoning: null, refusal: null, toolCalls: [], finishReason: 'content_filter' }],
      usage: usage({ input: 27 }),
    });
  });
});

describe('Gemini adapter: whole answers', () => {
  const answer = (candidates: unknown[], extra: Record<string, unknown> = {}) => bytes({ candidates, responseId: 'r', modelVersion: 'm', ...extra });

  it('joins text parts, places candidates without an index by position, and defaults a missing finish reason to stop', () => {
    const response = parse(answer([{ content: { parts: [{ text: 'a' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }, { text: 'b' }] } }, { content: { parts: [] }, finishReason: 'SAFETY' }]));
    expect(response.choices).toEqual([
      { index: 0, text: 'ab', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' },
      { index: 1, text: null, reasoning: null, refusal: null, toolCalls: [], finishReason: 'content_filter' },
    ]);
  });

  it("uses Gemini's own call ids when it sends them", () => {
    const response = parse(answer([{ content: { parts: [{ functionCall: { id: 'abc', name: 'f', args: { x: 1 } } }] }, finishReason: 'STOP' }]));
    expect(response.choices[0]?.toolCalls).toEqual([{ id: 'abc', name: 'f', arguments: '{"x":1}' }]);
  });

  it('reads no usage when the answer has none', () => {
    expect(parse(answer([])).usage).toBeNull();
  });

  it('takes createTime when present and clamps one before 1970 to 0', () => {
    expect(parse(answer([], { createTime: '2025-11-20T08:30:15Z' })).created).toBe(1763627415);
    expect(parse(answer([], { createTime: '1960-01-01T00:00:00Z' })).created).toBe(0);
    expect(parse(answer([], { createTime: 'yesterday' })).created).toBe(CREATED);
  });

  it.each([
    ['not JSON', '<html>Bad gateway</html>'],
    ['empty', ''],
    ['cut short', readFileSync(join(import.meta.dirname, '__fixtures__', 'response-cached-content.json'), 'utf8').slice(0, 100)],
    ['a JSON list', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"ok"'],
    ['an error object', JSON.stringify({ error: { code: 500, message: 'Internal error', status: 'INTERNAL' } })],
  ])('refuses a body that is %s with UpstreamFormatError', (_what, body) => {
    expect(() => parse(bytes(body))).toThrow(UpstreamFormatError);
  });

  it('never throws anything but UpstreamFormatError, on any JSON (property)', () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ candidates: fc.array(fc.record({ index: fc.jsonValue(), content: fc.record({ parts: fc.array(fc.jsonValue()) }), finishReason: fc.jsonValue() }, { requiredKeys: [] })), usageMetadata: fc.jsonValue(), promptFeedback: fc.jsonValue(), responseId: fc.jsonValue() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(body, (value) => {
        let outcome = 'parsed';
        try {
          const response = parse(bytes(JSON.stringify(value)));
          if (!response.choices.every((c) => Number.isInteger(c.index) && c.index >= 0 && c.index < 128)) outcome = 'bad index';
        } catch (error) {
          outcome = error instanceof UpstreamFormatError ? 'parsed' : String(error);
        }
        expect(outcome).toBe('parsed');
      }),
      { numRuns: 300 },
    );
  });
});

describe('Gemini adapter: describeError', () => {
  it("reads Google's error shape with its ErrorInfo reason", () => {
    expect(geminiAdapter.describeError(400, capture('error-invalid-api-key.json'))).toBe('HTTP 400: INVALID_ARGUMENT / API_KEY_INVALID / API key not valid. Please pass a valid API key.');
  });

  it('reads a quota error, whose details carry no reason (the long URL path reads as key-shaped and is masked)', () => {
    expect(geminiAdapter.describeError(429, capture('error-resource-exhausted.json'))).toBe(
      'HTTP 429: RESOURCE_EXHAUSTED / You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https:[redacted]',
    );
  });

  it('reads the error inside a one-element array, and a numeric code when there is no status', () => {
    expect(geminiAdapter.describeError(500, bytes([{ error: { code: 500, message: 'Internal error encountered.' } }]))).toBe('HTTP 500: 500 / Internal error encountered.');
  });

  it('masks anything key-shaped in the message', () => {
    const described = geminiAdapter.describeError(400, bytes({ error: { code: 400, message: 'API key AIzaSyD-1234567890abcdefghijklmnopqrstu not valid.', status: 'INVALID_ARGUMENT' } }));
    expect(described).toBe('HTTP 400: INVALID_ARGUMENT / API key [redacted] not valid.');
  });

  it.each([
    ['not JSON', '<html>502</html>', 'HTTP 502 (non-JSON error body, 16 bytes)'],
    ['empty JSON', '{}', 'HTTP 502'],
    ['a bare string error', '{"error":"backend down"}', 'HTTP 502: backend down'],
    ['hostile details', '{"error":{"details":[null,5,{"reason":7},{"reason":"QUOTA"}]}}', 'HTTP 502: QUOTA'],
  ])('describes %s', (_what, body, expected) => {
    expect(geminiAdapter.describeError(502, bytes(body))).toBe(expected);
  });
});
