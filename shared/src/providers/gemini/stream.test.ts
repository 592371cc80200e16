import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage } from '../../canonical/usage.ts';
import {
  cuts,
  decodeWith,
  DEEP_JSON,
  encode,
  eventsOf,
  fixtures,
  isIndex,
  itBoundsSseFrames,
  itCoversEveryCapture,
  itRefusesEndlessLine,
  lastUsage,
  split,
  wellFormed,
  type EventRules,
} from '../testing/stream-harness.ts';
import { geminiAdapter } from './adapter.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const CREATED = NOW.getTime() / 1000;
const capture = fixtures(import.meta.dirname).read;
const decodeAll = decodeWith(geminiAdapter);

// Gemini sends no creation time: the start event takes the clock's, pinned here.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

/** One SSE event the way Gemini frames it. */
const data = (json: unknown): string => `data: ${JSON.stringify(json)}\r\n\r\n`;
const startChunk = { candidates: [{ content: { parts: [{ text: 'a' }], role: 'model' }, index: 0 }], modelVersion: 'gemini-2.5-flash', responseId: 'resp-1' };
const start: StreamEvent = { type: 'start', id: 'resp-1', model: 'gemini-2.5-flash', created: CREATED };
const startText: StreamEvent = { type: 'text', choice: 0, text: 'a' };

const SIGNATURE = 'CiQB0e2Kb7Q3mZx1c0FqVh8yG2sZkq9XbWn4Tt1pLr6uEo0dYcYKYgHR7Yoz1j3C9aQm2hN0bX5sVwq8LkF7tJ3zPq1MNr6eUo2cWd9AaS4fGh8jKl0=';

interface Capture {
  file: string;
  events: StreamEvent[];
  usage: ReturnType<typeof usage> | null;
}

const captures: Capture[] = [
  {
    file: 'stream-text.sse',
    events: [
      { type: 'start', id: 'kXc5aLmDLd2xnvgP8ZqHqAw', model: 'gemini-2.0-flash', created: CREATED },
      { type: 'text', choice: 0, text: 'Bonjour' },
      { type: 'usage', usage: usage({ input: 9 }) },
      { type: 'text', choice: 0, text: ' à tous, comment' },
      { type: 'text', choice: 0, text: ' allez-vous ? 👋\n' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 9, output: 12 }) },
    ],
    usage: usage({ input: 9, output: 12 }),
  },
  {
    file: 'stream-parallel-function-calls.sse',
    events: [
      { type: 'start', id: 'Ab3dRmVyb0Jc-8QP4sKwqAw', model: 'gemini-2.5-flash', created: CREATED },
      { type: 'tool_call', choice: 0, index: 0, id: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_0', name: 'get_weather', arguments: '{"location":"Paris, France"}', signature: SIGNATURE },
      { type: 'usage', usage: usage({ input: 82, reasoning: 64 }) },
      { type: 'tool_call', choice: 0, index: 1, id: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_1', name: 'get_local_time', arguments: '{"timezone":"Europe/Paris"}' },
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      // Thoughts are counted beside the candidates: 82 + 31 + 64 = 177, the reported total.
      { type: 'usage', usage: usage({ input: 82, output: 31, reasoning: 64 }) },
    ],
    usage: usage({ input: 82, output: 31, reasoning: 64 }),
  },
  {
    file: 'stream-thinking.sse',
    events: [
      { type: 'start', id: 'T9vPaOWdK4-jnvgPq_zL0Q4', model: 'gemini-3-pro-preview', created: CREATED },
      { type: 'reasoning', choice: 0, text: '**Comparing the decimals**\n\nI line up 9.11 and 9.9 by their tenths.' },
      { type: 'usage', usage: usage({ input: 18 }) },
      { type: 'reasoning', choice: 0, text: ' Nine tenths beat one tenth, so 9.9 wins.' },
      { type: 'text', choice: 0, text: '9.9 is larger' },
      { type: 'usage', usage: usage({ input: 18, output: 4, reasoning: 220 }) },
      // The empty text part carrying only a thought signature yields nothing.
      { type: 'text', choice: 0, text: ': 9.90 > 9.11.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 18, output: 11, reasoning: 220 }) },
    ],
    usage: usage({ input: 18, output: 11, reasoning: 220 }),
  },
  {
    file: 'stream-candidate-safety.sse',
    events: [
      { type: 'start', id: 's4FeTYaNfMqWnvgP7ZqbqA8', model: 'gemini-2.5-flash', created: CREATED },
      { type: 'text', choice: 0, text: 'Here is an overview of' },
      { type: 'usage', usage: usage({ input: 31 }) },
      { type: 'finish', choice: 0, reason: 'content_filter' },
      { type: 'usage', usage: usage({ input: 31, output: 5 }) },
    ],
    usage: usage({ input: 31, output: 5 }),
  },
  {
    file: 'stream-prompt-blocked.sse',
    events: [
      { type: 'start', id: 'bL0kaP2vDc6gnvgPyJ7YyA0', model: 'gemini-2.5-flash', created: CREATED },
      { type: 'finish', choice: 0, reason: 'content_filter' },
      { type: 'usage', usage: usage({ input: 27 }) },
    ],
    usage: usage({ input: 27 }),
  },
  {
    file: 'stream-cut-mid-event.sse',
    events: [
      { type: 'start', id: 'Qm1oaKq3N9Cbnvgp3Z7XgAk', model: 'gemini-2.5-flash-lite', created: CREATED },
      { type: 'text', choice: 0, text: 'Hello' },
      { type: 'usage', usage: usage({ input: 6 }) },
      { type: 'text', choice: 0, text: ',' },
    ],
    usage: usage({ input: 6 }),
  },
];

describe('Gemini stream decoder: recorded captures', () => {
  itCoversEveryCapture(import.meta.dirname, captures.map((c) => c.file));

  describe.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const bytes = capture(c.file);

    it('decodes into exactly the canonical events, no frame terminal (Gemini sends no end marker)', () => {
      const frames = decodeAll([bytes]);
      expect(eventsOf(frames)).toEqual(c.events);
      expect(frames.filter((f) => f.terminal)).toEqual([]);
    });

    it('ends with the expected usage', () => {
      expect(lastUsage(eventsOf(decodeAll([bytes])))).toEqual(c.usage);
    });

    it('gives the same events however the bytes are split (property)', () => {
      fc.assert(
        fc.property(cuts, (points) => {
          expect(eventsOf(decodeAll(split(bytes, points)))).toEqual(c.events);
        }),
        { numRuns: 200 },
      );
    });

    it('gives the same events one byte at a time', () => {
      expect(eventsOf(decodeAll(split(bytes, Array.from({ length: bytes.length }, (_, i) => i))))).toEqual(c.events);
    });

    it('gives the same events with LF line ends', () => {
      const lf = encode(new TextDecoder().decode(bytes).replace(/\r\n/g, '\n'));
      expect(eventsOf(decodeAll([lf]))).toEqual(c.events);
    });
  });

  it('a stream cut mid-event leaves its half event without events', () => {
    const frames = decodeAll([capture('stream-cut-mid-event.sse')]);
    expect(frames.map((f) => [f.events.length, f.terminal])).toEqual([
      [3, false],
      [1, false],
      [0, false],
    ]);
  });

  it('a stream cut mid-event leaves a choice that started and never finished', () => {
    const events = eventsOf(decodeAll([capture('stream-cut-mid-event.sse')]));
    expect(events.filter((e) => e.type === 'finish')).toEqual([]);
  });

  it('passes each data payload on as the raw frame', () => {
    const frames = decodeAll([capture('stream-prompt-blocked.sse')]);
    expect(frames.map((f) => JSON.parse(f.raw ?? 'null').responseId)).toEqual(['bL0kaP2vDc6gnvgPyJ7YyA0']);
  });
});

describe('Gemini stream decoder: events', () => {
  it('emits start once per stream, from the first chunk, with an empty id when Gemini sends none', () => {
    const frames = decodeAll([encode(data({ candidates: [] }) + data(startChunk))]);
    expect(eventsOf(frames)).toEqual([{ type: 'start', id: '', model: '', created: CREATED }, startText]);
    // A new decoder is a new stream.
    expect(eventsOf(decodeAll([encode(data(startChunk))]))).toEqual([start, startText]);
  });

  it('takes the creation time from createTime when Gemini sends one', () => {
    expect(eventsOf(decodeAll([encode(data({ ...startChunk, createTime: '2025-11-20T08:30:15.123456Z' }))]))[0]).toEqual({ ...start, created: 1763627415 });
  });

  it('reads interleaved candidates, with finish reasons and tool calls counted per candidate', () => {
    const chunk = (candidates: unknown[]): string => data({ ...startChunk, candidates });
    const call = (name: string) => ({ functionCall: { name, args: {} } });
    const frames = decodeAll([
      encode(
        chunk([
          { content: { parts: [{ text: 'b' }] }, index: 1 },
          { content: { parts: [{ text: 'a' }] }, index: 0 },
        ]) +
          chunk([
            { content: { parts: [call('f')] }, index: 2 },
            { content: { parts: [call('g'), call('h')] }, index: 0 },
          ]) +
          chunk([
            { finishReason: 'MAX_TOKENS', index: 0 },
            { finishReason: 'RECITATION', index: 1 },
            { finishReason: 'STOP', index: 2 },
            { finishReason: 'MALFORMED_FUNCTION_CALL', index: 3 },
            { finishReason: 'FINISH_REASON_UNSPECIFIED', index: 4 },
          ]),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      start,
      { type: 'text', choice: 1, text: 'b' },
      { type: 'text', choice: 0, text: 'a' },
      { type: 'tool_call', choice: 2, index: 0, id: 'call_resp-1_2_0', name: 'f', arguments: '{}' },
      { type: 'tool_call', choice: 0, index: 0, id: 'call_resp-1_0_0', name: 'g', arguments: '{}' },
      { type: 'tool_call', choice: 0, index: 1, id: 'call_resp-1_0_1', name: 'h', arguments: '{}' },
      // A candidate cut by the cap stays `length` even though it called functions.
      { type: 'finish', choice: 0, reason: 'length' },
      { type: 'finish', choice: 1, reason: 'content_filter' },
      { type: 'finish', choice: 2, reason: 'tool_calls' },
      { type: 'finish', choice: 3, reason: 'stop' },
    ]);
  });

  it.each([
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'],
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['LANGUAGE', 'stop'],
    ['OTHER', 'stop'],
  ])('maps finishReason %s to %s', (reason, expected) => {
    const events = eventsOf(decodeAll([encode(data({ ...startChunk, candidates: [{ finishReason: reason }] }))]));
    expect(events).toEqual([start, { type: 'finish', choice: 0, reason: expected }]);
  });

  it('emits one finish per candidate, and nothing more for a candidate that finished', () => {
    const done = { ...startChunk, candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP', index: 0 }] };
    const events = eventsOf(decodeAll([encode(data(done) + data(done) + data({ promptFeedback: { blockReason: 'OTHER' } }))]));
    expect(events).toEqual([start, { type: 'text', choice: 0, text: 'x' }, { type: 'finish', choice: 0, reason: 'stop' }]);
  });

  it("uses Gemini's own call id when it sends one, and a bounded one only", () => {
    const parts = [{ functionCall: { id: 'fc-7', name: 'f', args: { a: [1, { b: null }] } } }, { functionCall: { id: 'x'.repeat(129), name: 'g' } }];
    const events = eventsOf(decodeAll([encode(data({ ...startChunk, candidates: [{ content: { parts } }] }))]));
    expect(events).toEqual([
      start,
      { type: 'tool_call', choice: 0, index: 0, id: 'fc-7', name: 'f', arguments: '{"a":[1,{"b":null}]}' },
      { type: 'tool_call', choice: 0, index: 1, id: 'call_resp-1_0_1', name: 'g', arguments: '{}' },
    ]);
  });

  it('derives call ids from the first response id, reduced to id-safe characters', () => {
    const chunk = (responseId: string | undefined) => ({ responseId, candidates: [{ content: { parts: [{ functionCall: { name: 'f' } }] } }] });
    const events = eventsOf(decodeAll([encode(data(chunk('r/1 "x"')) + data(chunk('other')))]));
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.id)).toEqual(['call_r1x_0_0', 'call_r1x_0_1']);
    const anonymous = eventsOf(decodeAll([encode(data(chunk(undefined)))]));
    expect(anonymous.filter((e) => e.type === 'tool_call').map((e) => e.id)).toEqual(['call_0_0']);
  });

  it('emits usage only when it changed', () => {
    const meta = (candidates: number) => ({ ...startChunk, candidates: [], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: candidates } });
    const events = eventsOf(decodeAll([encode(data(meta(1)) + data(meta(1)) + data(meta(2)) + data(meta(2)))]));
    expect(events).toEqual([start, { type: 'usage', usage: usage({ input: 5, output: 1 }) }, { type: 'usage', usage: usage({ input: 5, output: 2 }) }]);
  });

  it('reads an error inside the stream, by status, code or as a bare string', () => {
    const frames = decodeAll([
      encode(
        data({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }) +
          data({ error: { code: 500, message: 'Internal error encountered.' } }) +
          data({ error: 'backend error' }) +
          data({ error: { details: [] } }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      { type: 'error', message: 'The model is overloaded. Please try again later.', code: 'UNAVAILABLE' },
      { type: 'error', message: 'Internal error encountered.', code: '500' },
      { type: 'error', message: 'backend error', code: null },
      { type: 'error', message: 'provider error', code: null },
    ]);
  });

  it('reads comments, a stray [DONE] and other events as nothing to forward', () => {
    expect(decodeAll([encode(': keep-alive\r\n\r\ndata: [DONE]\r\n\r\n')])).toEqual([
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: false },
    ]);
  });
});

/** Gemini's tool calls always carry an id (its own, bounded, or derived) and a name. */
const RULES: EventRules = {
  tool_call: (e) =>
    isIndex(e.choice) && isIndex(e.index) && typeof e.id === 'string' && e.id.length > 0 && e.id.length <= 128 && typeof e.name === 'string' && e.name.length > 0 &&
    typeof e.arguments === 'string' && (e.signature === undefined || typeof e.signature === 'string'),
};

describe('Gemini stream decoder: hostile payloads', () => {
  const hostile = [
    'null',
    '5',
    '"text"',
    'true',
    '[]',
    '[null]',
    '[{"candidates":[{"content":{"parts":[{"text":"in an array"}]}}]}]',
    '{}',
    'not json',
    '{"candidates":[',
    '{"candidates":5}',
    '{"candidates":"x"}',
    '{"candidates":{"0":{"content":{"parts":[{"text":"x"}]}}}}',
    '{"candidates":[null]}',
    '{"candidates":[5,"x",[],true]}',
    '{"candidates":[{"index":1e9,"content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"index":128,"content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"index":-1,"content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"index":0.5,"content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"index":"0","content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"index":null,"content":{"parts":[{"text":"x"}]}}]}',
    '{"candidates":[{"content":null}]}',
    '{"candidates":[{"content":5}]}',
    '{"candidates":[{"content":{"parts":5}}]}',
    '{"candidates":[{"content":{"parts":[null,5,"x",[]]}}]}',
    '{"candidates":[{"content":{"parts":[{"text":5}]}}]}',
    '{"candidates":[{"content":{"parts":[{"text":""}]}}]}',
    '{"candidates":[{"content":{"parts":[{"text":{"t":"x"}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"thought":true}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":null}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":5}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"name":""}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"name":5}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":5}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":[1]}}]}}]}',
    '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":"{}"}}]}}]}',
    '{"candidates":[{"finishReason":5}]}',
    '{"candidates":[{"finishReason":null}]}',
    '{"candidates":[{"finishReason":""}]}',
    '{"candidates":[{"finishReason":"FINISH_REASON_UNSPECIFIED"}]}',
    '{"promptFeedback":{"blockReason":5}}',
    '{"promptFeedback":{"blockReason":""}}',
    '{"promptFeedback":"SAFETY"}',
    '{"usageMetadata":5}',
    '{"usageMetadata":{}}',
    '{"usageMetadata":{"promptTokenCount":"5","candidatesTokenCount":1}}',
    '{"usageMetadata":{"promptTokenCount":-1}}',
    '{"usageMetadata":{"promptTokenCount":1.5}}',
    '{"usageMetadata":{"candidatesTokenCount":7}}',
    '{"error":null}',
    '{"responseId":5,"modelVersion":null}',
  ];

  it.each(hostile)('%s gives no events and does not throw', (payload) => {
    // After a real start, so no start event can hide a missed one.
    const frames = decodeAll([encode(`${data(startChunk)}data: ${payload}\r\n\r\n`)]);
    expect(eventsOf(frames)).toEqual([start, startText]);
    expect(frames).toHaveLength(2);
  });

  it('survives deeply nested JSON, also as function call arguments', () => {
    expect(eventsOf(decodeAll([encode(`data: ${DEEP_JSON}\n\n`)]))).toEqual([]);
    const deepArgs = `{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":${DEEP_JSON}}}}]}}]}`;
    expect(eventsOf(decodeAll([encode(`${data(startChunk)}data: ${deepArgs}\n\n`)]))).toEqual([start, startText]);
  });

  it('bounds the tool calls read per candidate', () => {
    const parts = Array.from({ length: 130 }, () => ({ functionCall: { name: 'f' } }));
    const events = eventsOf(decodeAll([encode(data({ ...startChunk, candidates: [{ content: { parts } }] }))]));
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.index)).toEqual(Array.from({ length: 128 }, (_, i) => i));
  });

  it('clamps token counts past the maximum and never counts cached tokens above the prompt', () => {
    const events = eventsOf(decodeAll([encode(data({ ...startChunk, candidates: [], usageMetadata: { promptTokenCount: 1e15, cachedContentTokenCount: 2e15, candidatesTokenCount: 1e15 } }))]));
    expect(events).toEqual([start, { type: 'usage', usage: usage({ input: 0, cachedInput: 1e12, output: 1e12 }) }]);
  });

  it('never throws on any JSON, and emits only well-formed events (property)', () => {
    const part = fc.oneof(fc.jsonValue(), fc.record({ text: fc.jsonValue(), thought: fc.jsonValue(), functionCall: fc.oneof(fc.jsonValue(), fc.record({ id: fc.jsonValue(), name: fc.jsonValue(), args: fc.jsonValue() }, { requiredKeys: [] })), thoughtSignature: fc.jsonValue() }, { requiredKeys: [] }));
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          responseId: fc.jsonValue(),
          candidates: fc.array(fc.record({ index: fc.jsonValue(), content: fc.oneof(fc.jsonValue(), fc.record({ parts: fc.array(part) })), finishReason: fc.jsonValue() }, { requiredKeys: [] })),
          promptFeedback: fc.jsonValue(),
          usageMetadata: fc.oneof(fc.jsonValue(), fc.record({ promptTokenCount: fc.jsonValue(), cachedContentTokenCount: fc.jsonValue(), candidatesTokenCount: fc.jsonValue(), thoughtsTokenCount: fc.jsonValue() }, { requiredKeys: [] })),
          error: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 5 }), (payloads) => {
        const events = eventsOf(decodeAll([encode(payloads.map(data).join(''))]));
        expect(events.filter((e) => !wellFormed(e, RULES))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Gemini stream decoder: limits', () => {
  itBoundsSseFrames(decodeAll, encode(`${data(startChunk)}${data({ ...startChunk, candidates: [{ content: { parts: [{ text: 'x'.repeat(5_000) }] } }] })}`));
  itRefusesEndlessLine(geminiAdapter);
});
