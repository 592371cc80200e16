import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { BONJOUR, parisToolCalls } from '../testing/conversations.ts';
import {
  decodeWith,
  encode,
  eventsOf,
  fixtures,
  itBoundsSseFrames,
  itCoversEveryCapture,
  itPassesFramesUnderLimit,
  itRefusesEndlessLine,
  itReplaysAnySplit,
  itSurvivesDeepJson,
  SMALL_LIMITS,
  wellFormed,
} from '../testing/stream-harness.ts';
import { openAIAdapter } from './adapter.ts';

const capture = fixtures(import.meta.dirname).read;
const decodeAll = decodeWith(openAIAdapter);

/** One data frame the way a stream of one chunk `data: <json>` decodes. */
const data = (json: unknown): string => `data: ${JSON.stringify(json)}\n\n`;
const startChunk = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-x', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
const start: StreamEvent = { type: 'start', id: 'chatcmpl-x', model: 'gpt-x', created: 1_700_000_000 };

interface Capture {
  file: string;
  events: StreamEvent[];
  /** Whether the provider's end marker came: a stream without it is incomplete. */
  terminated: boolean;
}

const captures: Capture[] = [
  {
    file: 'chat-stream-include-usage.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'chatcmpl-AbC123', model: 'gpt-4o-mini-2024-07-18', created: 1732270000 },
      ...BONJOUR,
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 21, output: 6 }) },
    ],
  },
  {
    file: 'chat-stream-parallel-tool-calls.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'chatcmpl-B9xTool4Parallel', model: 'gpt-4o-2024-08-06', created: 1741570000 },
      ...parisToolCalls('call_Yz1AbCdEf2GhIjKlMn3OpQ', 'call_Rs4TuVwXyZ5aBcDeFg6HiJ'),
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: usage({ input: 82, output: 47 }) },
    ],
  },
  {
    file: 'chat-stream-reasoning-usage.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'chatcmpl-C1rReasoningO4mini', model: 'o4-mini-2025-04-16', created: 1745000000 },
      { type: 'text', choice: 0, text: 'The answer' },
      { type: 'text', choice: 0, text: ' is 42.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      // prompt 1200 of which 1024 cached; completion 530 of which 512 reasoning.
      { type: 'usage', usage: usage({ input: 176, cachedInput: 1024, output: 18, reasoning: 512 }) },
    ],
  },
  {
    file: 'chat-stream-reasoning-content.sse',
    terminated: true,
    events: [
      { type: 'start', id: '6c1e8f0a-2b3d-4e5f-8a9b-0c1d2e3f4a5b', model: 'deepseek-reasoner', created: 1737000000 },
      { type: 'reasoning', choice: 0, text: 'Compare the decimals:' },
      { type: 'reasoning', choice: 0, text: ' 0.9 > 0.11.' },
      { type: 'text', choice: 0, text: '9.9 is larger.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      // prompt 18 of which 16 cache hits (prompt_cache_hit_tokens); completion 240 of which 220 reasoning.
      { type: 'usage', usage: usage({ input: 2, cachedInput: 16, output: 20, reasoning: 220 }) },
    ],
  },
  {
    file: 'chat-stream-error-event.sse',
    terminated: false,
    events: [
      { type: 'start', id: 'chatcmpl-D4eErrorMidStream', model: 'gpt-4o-mini-2024-07-18', created: 1746000000 },
      { type: 'text', choice: 0, text: 'Once upon' },
      { type: 'error', message: 'The server had an error while processing your request. Sorry about that!', code: 'server_error' },
    ],
  },
  {
    file: 'chat-stream-cut-mid-event.sse',
    terminated: false,
    events: [
      { type: 'start', id: 'chatcmpl-E5fCutMidEvent', model: 'gpt-4o-mini-2024-07-18', created: 1747000000 },
      { type: 'text', choice: 0, text: 'Hello' },
    ],
  },
];

describe('OpenAI stream decoder: recorded captures', () => {
  itCoversEveryCapture(import.meta.dirname, captures.map((c) => c.file));

  describe.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const bytes = capture(c.file);

    it('decodes into exactly the canonical events', () => {
      const frames = decodeAll([bytes]);
      expect(eventsOf(frames)).toEqual(c.events);
      expect(frames.some((f) => f.terminal)).toBe(c.terminated);
      // Only the end marker is terminal, and it carries nothing to forward.
      expect(frames.filter((f) => f.terminal)).toEqual(c.terminated ? [{ events: [], raw: null, terminal: true }] : []);
    });

    it('keeps each data frame as the provider sent it, for the passthrough path', () => {
      const frames = decodeAll([bytes]);
      const text = new TextDecoder().decode(bytes);
      for (const frame of frames.filter((f) => f.raw !== null)) expect(text).toContain(`data: ${frame.raw}`);
      expect(frames.filter((f) => f.raw === null && !f.terminal).every((f) => f.events.length === 0)).toBe(true);
    });

    itReplaysAnySplit(decodeAll, bytes, c.events);
  });

  it('a stream cut mid-event: its half event yields nothing, is not passed on, and no end marker comes', () => {
    const frames = decodeAll([capture('chat-stream-cut-mid-event.sse')]);
    expect(frames.map((f) => [f.events.length, f.raw === null, f.terminal])).toEqual([
      [1, false, false],
      [1, false, false],
      [0, true, false],
    ]);
  });
});

describe('OpenAI stream decoder: events', () => {
  it('emits start once per stream, from the first chunk that has an id', () => {
    const frames = decodeAll([encode(data({ choices: [] }) + data(startChunk) + data({ ...startChunk, id: 'chatcmpl-other', model: 'other' }))]);
    expect(eventsOf(frames)).toEqual([start]);
    // A new decoder is a new stream.
    expect(eventsOf(decodeAll([encode(data(startChunk))]))).toEqual([start]);
  });

  it('reads interleaved choices, refusals and every finish reason', () => {
    const chunk = (choices: unknown[]): string => data({ ...startChunk, choices });
    const frames = decodeAll([
      encode(
        data(startChunk) +
          chunk([{ index: 1, delta: { content: 'b' } }, { index: 0, delta: { content: 'a' } }]) +
          chunk([{ index: 2, delta: { refusal: "I can't help with that." } }]) +
          chunk([
            { index: 0, delta: {}, finish_reason: 'length' },
            { index: 1, delta: {}, finish_reason: 'content_filter' },
            { index: 2, delta: {}, finish_reason: 'function_call' },
            { index: 3, delta: {}, finish_reason: 'eos_token' },
            { index: 4, delta: {}, finish_reason: null },
          ]),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      start,
      { type: 'text', choice: 1, text: 'b' },
      { type: 'text', choice: 0, text: 'a' },
      { type: 'refusal', choice: 2, text: "I can't help with that." },
      { type: 'finish', choice: 0, reason: 'length' },
      { type: 'finish', choice: 1, reason: 'content_filter' },
      { type: 'finish', choice: 2, reason: 'tool_calls' },
      { type: 'finish', choice: 3, reason: 'stop' },
    ]);
  });

  it('reads reasoning from `reasoning` too (OpenRouter), before the text of the same delta', () => {
    const frames = decodeAll([encode(data({ ...startChunk, choices: [{ index: 0, delta: { content: 'x', reasoning: 'think' } }] }))]);
    expect(eventsOf(frames)).toEqual([start, { type: 'reasoning', choice: 0, text: 'think' }, { type: 'text', choice: 0, text: 'x' }]);
  });

  it('reads an error event with a code, a type only, or a bare string', () => {
    const frames = decodeAll([
      encode(
        data({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }) +
          data({ error: { message: 'Overloaded', type: 'overloaded_error' } }) +
          data({ error: 'upstream connect error' }) +
          data({ error: { code: 502 } }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      { type: 'error', message: 'Rate limit reached', code: 'rate_limit_exceeded' },
      { type: 'error', message: 'Overloaded', code: 'overloaded_error' },
      { type: 'error', message: 'upstream connect error', code: null },
      { type: 'error', message: 'provider error', code: null },
    ]);
  });

  it('reads comments and keep-alives as nothing to forward, and [DONE] as the end', () => {
    expect(decodeAll([encode(': OPENROUTER PROCESSING\n\n:\n\ndata: [DONE]\n\n')])).toEqual([
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: true },
    ]);
  });

  it('clamps a negative creation time to 0 and floors a fractional one', () => {
    expect(eventsOf(decodeAll([encode(data({ id: 'a', created: -5, choices: [] }))]))).toEqual([{ type: 'start', id: 'a', model: '', created: 0 }]);
    expect(eventsOf(decodeAll([encode(data({ id: 'a', model: 'm', created: 10.7, choices: [] }))]))).toEqual([{ type: 'start', id: 'a', model: 'm', created: 10 }]);
  });
});

describe('OpenAI stream decoder: hostile payloads', () => {
  const hostile = [
    'null',
    '5',
    '"text"',
    'true',
    '[]',
    '[null]',
    '{}',
    'not json',
    '{"choices":[',
    '{"choices":5}',
    '{"choices":"x"}',
    '{"choices":{"0":{"index":0,"delta":{"content":"x"}}}}',
    '{"choices":[null]}',
    '{"choices":[5,"x",[],true]}',
    '{"choices":[{"delta":{"content":"no index"}}]}',
    '{"choices":[{"index":1e9,"delta":{"content":"x"}}]}',
    '{"choices":[{"index":128,"delta":{"content":"x"}}]}',
    '{"choices":[{"index":-1,"delta":{"content":"x"}}]}',
    '{"choices":[{"index":0.5,"delta":{"content":"x"}}]}',
    '{"choices":[{"index":"0","delta":{"content":"x"}}]}',
    '{"choices":[{"index":0,"delta":null}]}',
    '{"choices":[{"index":0,"delta":5}]}',
    '{"choices":[{"index":0,"delta":{"content":5}}]}',
    '{"choices":[{"index":0,"delta":{"content":{"text":"x"}}}]}',
    '{"choices":[{"index":0,"delta":{"content":["x"]}}]}',
    '{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":7,"refusal":false}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":5}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[null,5,"x"]}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1e9,"id":"c","function":{"name":"f"}}]}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"name":"f"}}]}}]}',
    '{"usage":5}',
    '{"usage":{"prompt_tokens":"5","completion_tokens":1}}',
    '{"usage":{"prompt_tokens":-1,"completion_tokens":1}}',
    '{"usage":{"prompt_tokens":1.5,"completion_tokens":1}}',
    '{"usage":{"prompt_tokens":1}}',
    '{"error":null}',
    '{"id":5,"choices":[]}',
    '{"id":null,"model":"m"}',
  ];

  it.each(hostile)('%s gives no events and does not throw', (payload) => {
    // After a real start, so no start event can hide a missed one.
    const frames = decodeAll([encode(`${data(startChunk)}data: ${payload}\n\n`)]);
    expect(eventsOf(frames)).toEqual([start]);
    expect(frames).toHaveLength(2);
  });

  it('passes on only frames that are JSON objects', () => {
    const passed = hostile.filter((payload) => decodeAll([encode(`data: ${payload}\n\n`)])[0]!.raw !== null);
    expect(passed).toEqual(hostile.filter((payload) => payload.startsWith('{') && payload !== '{"choices":['));
  });

  itSurvivesDeepJson(decodeAll);

  it('never throws on any JSON, and emits only well-formed events (property)', () => {
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record({ id: fc.jsonValue(), choices: fc.array(fc.record({ index: fc.jsonValue(), delta: fc.jsonValue(), finish_reason: fc.jsonValue() }, { requiredKeys: [] })), usage: fc.jsonValue() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 5 }), (payloads) => {
        const events = eventsOf(decodeAll([encode(payloads.map(data).join(''))]));
        expect(events.filter((e) => !wellFormed(e))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OpenAI stream decoder: limits', () => {
  itBoundsSseFrames(decodeAll, encode(`${data(startChunk)}${data({ ...startChunk, choices: [{ index: 0, delta: { content: 'x'.repeat(5_000) } }] })}data: [DONE]\n\n`));
  itRefusesEndlessLine(openAIAdapter);

  it('throws UpstreamFormatError for an event of many data lines that never ends', () => {
    const decoder = openAIAdapter.newStreamDecoder(SMALL_LIMITS);
    expect(decoder.push(encode(`data: ${'z'.repeat(400)}\ndata: ${'z'.repeat(400)}\n`))).toEqual([]);
    expect(() => decoder.push(encode(`data: ${'z'.repeat(400)}\n`))).toThrow(UpstreamFormatError);
  });

  itPassesFramesUnderLimit(decodeAll, encode(Array.from({ length: 30 }, (_, i) => data({ ...startChunk, choices: [{ index: 0, delta: { content: `${i}`.padEnd(400, '.') } }] })).join('')));
});
