import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage, type Usage } from '../../canonical/usage.ts';
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
  lastUsage,
  wellFormed,
  type EventRules,
} from '../testing/stream-harness.ts';
import { anthropicAdapter } from './adapter.ts';

/** Anthropic's message has no creation time: the decoder stamps the start with the clock. */
const NOW_SECONDS = 1_750_000_000;
const capture = fixtures(import.meta.dirname).read;
const decodeAll = decodeWith(anthropicAdapter);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW_SECONDS * 1000 + 999);
});
afterEach(() => {
  vi.useRealTimers();
});

/** One SSE event the way Anthropic frames it: the event name, then its JSON. */
const sse = (json: { type: string } & Record<string, unknown>): string => `event: ${json.type}\ndata: ${JSON.stringify(json)}\n\n`;
const messageStart = (usageObject?: unknown) =>
  sse({ type: 'message_start', message: { id: 'msg_x', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, ...(usageObject === undefined ? {} : { usage: usageObject }) } });
const start: StreamEvent = { type: 'start', id: 'msg_x', model: 'claude-x', created: NOW_SECONDS };

interface Capture {
  file: string;
  events: StreamEvent[];
  /** The usage the last usage event reports: what metering bills. */
  finalUsage: Usage | null;
  /** Whether the provider's end marker (message_stop) came: a stream without it is incomplete. */
  terminated: boolean;
}

const captures: Capture[] = [
  {
    file: 'messages-stream-text.sse',
    terminated: true,
    finalUsage: usage({ input: 19, output: 8 }),
    events: [
      { type: 'start', id: 'msg_01Xq7TextStreamBonjour', model: 'claude-sonnet-4-5-20250929', created: NOW_SECONDS },
      { type: 'usage', usage: usage({ input: 19, output: 1 }) },
      ...BONJOUR,
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 19, output: 8 }) },
    ],
  },
  {
    file: 'messages-stream-tool-use.sse',
    terminated: true,
    finalUsage: usage({ input: 611, output: 104 }),
    events: [
      { type: 'start', id: 'msg_01Tw0ToolsParallelParis', model: 'claude-sonnet-4-5-20250929', created: NOW_SECONDS },
      { type: 'usage', usage: usage({ input: 611, output: 3 }) },
      { type: 'text', choice: 0, text: "I'll look up both." },
      // Content block 1 is the choice's first tool call, block 2 its second.
      ...parisToolCalls('toolu_01WeatherParisA1b2C3d4', 'toolu_01TimeParisE5f6G7h8'),
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: usage({ input: 611, output: 104 }) },
    ],
  },
  {
    file: 'messages-stream-thinking.sse',
    terminated: true,
    // Thinking tokens are inside Anthropic's output_tokens and not reported apart: they stay output.
    finalUsage: usage({ input: 48, output: 240 }),
    events: [
      { type: 'start', id: 'msg_01Th1nkDecimalsCompare', model: 'claude-sonnet-4-5-20250929', created: NOW_SECONDS },
      { type: 'usage', usage: usage({ input: 48, output: 4 }) },
      { type: 'reasoning', choice: 0, text: 'Compare the decimals:' },
      { type: 'reasoning', choice: 0, text: ' 0.9 > 0.11.' },
      { type: 'reasoning', choice: 0, text: '', signature: 'EqQBCkgIBhABGAIiQFakeSignatureForTestsOnly0123456789abcdef' },
      { type: 'reasoning', choice: 0, text: '', redacted: 'EmwKAhgBEgyRedactedBlobForTestsOnly' },
      { type: 'text', choice: 0, text: '9.9 is larger.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 48, output: 240 }) },
    ],
  },
  {
    file: 'messages-stream-prompt-cache.sse',
    terminated: true,
    finalUsage: usage({ input: 12, cachedInput: 2048, cacheWrite: 310, output: 57 }),
    events: [
      { type: 'start', id: 'msg_01CacheHitSummaryPride', model: 'claude-haiku-4-5-20251001', created: NOW_SECONDS },
      // input_tokens already excludes cache reads (cache_read_input_tokens) and writes (cache_creation_input_tokens).
      { type: 'usage', usage: usage({ input: 12, cachedInput: 2048, cacheWrite: 310, output: 2 }) },
      { type: 'text', choice: 0, text: "The novel's themes" },
      { type: 'text', choice: 0, text: ' are pride and prejudice.' },
      { type: 'finish', choice: 0, reason: 'length' },
      { type: 'usage', usage: usage({ input: 12, cachedInput: 2048, cacheWrite: 310, output: 57 }) },
    ],
  },
  {
    file: 'messages-stream-error-event.sse',
    terminated: false,
    finalUsage: usage({ input: 30, output: 1 }),
    events: [
      { type: 'start', id: 'msg_01ErrOverloadedMidway', model: 'claude-opus-4-1-20250805', created: NOW_SECONDS },
      { type: 'usage', usage: usage({ input: 30, output: 1 }) },
      { type: 'text', choice: 0, text: 'Once upon' },
      { type: 'error', message: 'Overloaded', code: 'overloaded_error' },
    ],
  },
  {
    file: 'messages-stream-cut-mid-event.sse',
    terminated: false,
    finalUsage: usage({ input: 9, output: 1 }),
    events: [
      { type: 'start', id: 'msg_01CutMidEventHello', model: 'claude-sonnet-4-5-20250929', created: NOW_SECONDS },
      { type: 'usage', usage: usage({ input: 9, output: 1 }) },
      { type: 'text', choice: 0, text: 'Hello' },
    ],
  },
];

describe('Anthropic stream decoder: recorded captures', () => {
  itCoversEveryCapture(import.meta.dirname, captures.map((c) => c.file));

  describe.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const bytes = capture(c.file);

    it('decodes into exactly the canonical events and the final usage', () => {
      const frames = decodeAll([bytes]);
      expect(eventsOf(frames)).toEqual(c.events);
      expect(lastUsage(eventsOf(frames))).toEqual(c.finalUsage);
      // Only message_stop is terminal, and it carries nothing to forward.
      expect(frames.filter((f) => f.terminal)).toEqual(c.terminated ? [{ events: [], raw: null, terminal: true }] : []);
    });

    it("keeps each event's data as the provider sent it, for the passthrough path", () => {
      const frames = decodeAll([bytes]);
      const text = new TextDecoder().decode(bytes);
      for (const frame of frames.filter((f) => f.raw !== null)) expect(text).toContain(`data: ${frame.raw}`);
      // Pings carry nothing to forward and mean nothing.
      expect(frames.filter((f) => f.raw === null && !f.terminal).every((f) => f.events.length === 0)).toBe(true);
    });

    itReplaysAnySplit(decodeAll, bytes, c.events);
  });

  it('a stream cut mid-event leaves its half event without events and without an end marker', () => {
    const frames = decodeAll([capture('messages-stream-cut-mid-event.sse')]);
    expect(frames.map((f) => [f.events.length, f.terminal])).toEqual([
      [2, false],
      [0, false],
      [1, false],
      [0, false],
    ]);
  });

  it('frames pings as nothing to forward, and message_stop as the end', () => {
    const frames = decodeAll([capture('messages-stream-text.sse')]);
    expect(frames.map((f) => (f.raw === null ? (f.terminal ? 'end' : 'nothing') : JSON.parse(f.raw).type))).toEqual([
      'message_start',
      'content_block_start',
      'nothing',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'end',
    ]);
  });
});

describe('Anthropic stream decoder: events', () => {
  it('emits start once per stream, from message_start, with an empty id when it has none', () => {
    expect(eventsOf(decodeAll([encode(messageStart() + messageStart())]))).toEqual([start]);
    expect(eventsOf(decodeAll([encode(sse({ type: 'message_start', message: { model: 'm' } }))]))).toEqual([{ type: 'start', id: '', model: 'm', created: NOW_SECONDS }]);
  });

  it('carries the whole usage vector in every usage event: input and cache counts from message_start, output from message_delta', () => {
    const events = eventsOf(
      decodeAll([
        encode(
          messageStart({ input_tokens: 5, cache_read_input_tokens: 7, cache_creation_input_tokens: 3, output_tokens: 1 }) +
            sse({ type: 'message_delta', delta: { stop_reason: null }, usage: { output_tokens: 20 } }) +
            // A later, cumulative message_delta may repeat the input counts; they replace the earlier ones.
            sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 6, output_tokens: 25 } }),
        ),
      ]),
    );
    expect(events.filter((e) => e.type === 'usage')).toEqual([
      { type: 'usage', usage: usage({ input: 5, cachedInput: 7, cacheWrite: 3, output: 1 }) },
      { type: 'usage', usage: usage({ input: 5, cachedInput: 7, cacheWrite: 3, output: 20 }) },
      { type: 'usage', usage: usage({ input: 6, cachedInput: 7, cacheWrite: 3, output: 25 }) },
    ]);
  });

  it('reads every stop reason', () => {
    const reasons = ['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'pause_turn', 'model_context_window_exceeded', 'a_future_reason'];
    const events = eventsOf(decodeAll([encode(reasons.map((r) => sse({ type: 'message_delta', delta: { stop_reason: r } })).join(''))]));
    expect(events).toEqual(
      ['stop', 'stop', 'length', 'tool_calls', 'content_filter', 'stop', 'length', 'stop'].map((reason) => ({ type: 'finish', choice: 0, reason })),
    );
  });

  it('keeps the stop sequence that ended the answer, and only with that stop reason', () => {
    const events = eventsOf(
      decodeAll([
        encode(
          sse({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: '###' }, usage: { output_tokens: 4 } }) +
            // A sequence beside another reason, or not a string, or past what a request may hold, is not believed.
            sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: '###' } }) +
            sse({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: 7 } }) +
            sse({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: 'x'.repeat(1001) } }),
        ),
      ]),
    );
    expect(events.filter((e) => e.type === 'finish')).toEqual([
      { type: 'finish', choice: 0, reason: 'stop', stopSequence: '###' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
  });

  it('reads a tool input sent whole in content_block_start when no delta follows it', () => {
    const events = eventsOf(
      decodeAll([
        encode(
          messageStart() +
            sse({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_a', name: 'f', input: { a: 1 } } }) +
            sse({ type: 'content_block_stop', index: 0 }) +
            // With deltas, the deltas are the input and the start's is not repeated.
            sse({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_b', name: 'g', input: { ignored: true } } }) +
            sse({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"b":2}' } }) +
            sse({ type: 'content_block_stop', index: 1 }),
        ),
      ]),
    );
    expect(events).toEqual([
      start,
      { type: 'tool_call', choice: 0, index: 0, id: 'toolu_a', name: 'f', arguments: '' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{"a":1}' },
      { type: 'tool_call', choice: 0, index: 1, id: 'toolu_b', name: 'g', arguments: '' },
      { type: 'tool_call', choice: 0, index: 1, id: null, name: null, arguments: '{"b":2}' },
    ]);
  });

  it('counts tool calls per choice across interleaved other blocks, and skips server-tool blocks', () => {
    const events = eventsOf(
      decodeAll([
        encode(
          sse({ type: 'content_block_start', index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }) +
            sse({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } }) +
            sse({ type: 'content_block_stop', index: 0 }) +
            sse({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} } }) +
            sse({ type: 'content_block_stop', index: 1 }) +
            sse({ type: 'content_block_start', index: 2, content_block: { type: 'text', text: 'between' } }) +
            sse({ type: 'content_block_stop', index: 2 }) +
            sse({ type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'toolu_2', name: 'g', input: {} } }),
        ),
      ]),
    );
    expect(events).toEqual([
      { type: 'tool_call', choice: 0, index: 0, id: 'toolu_1', name: 'f', arguments: '' },
      { type: 'text', choice: 0, text: 'between' },
      { type: 'tool_call', choice: 0, index: 1, id: 'toolu_2', name: 'g', arguments: '' },
    ]);
  });

  it('ignores deltas for a block after its content_block_stop', () => {
    const events = eventsOf(
      decodeAll([
        encode(
          sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
            sse({ type: 'content_block_stop', index: 0 }) +
            sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'late' } }),
        ),
      ]),
    );
    expect(events).toEqual([]);
  });

  it('reads an error event with a type, or without one', () => {
    const frames = decodeAll([encode(sse({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } }) + sse({ type: 'error' }))]);
    expect(eventsOf(frames)).toEqual([
      { type: 'error', message: 'Internal server error', code: 'api_error' },
      { type: 'error', message: 'provider error', code: null },
    ]);
  });

  it('takes the kind from the SSE event name when the JSON has no type', () => {
    expect(decodeAll([encode('event: message_stop\ndata: {}\n\n')])).toEqual([{ events: [], raw: null, terminal: true }]);
  });

  it('reads comments as nothing to forward', () => {
    expect(decodeAll([encode(': keep-alive\n\n')])).toEqual([{ events: [], raw: null, terminal: false }]);
  });

  it('stamps the start with the current time, floored to seconds', () => {
    expect(eventsOf(decodeAll([encode(messageStart())]))).toEqual([{ ...start, created: NOW_SECONDS }]);
  });
});

/**
 * Anthropic answers one choice; a reasoning event carries text, or else exactly one of a signature
 * and a redacted block, each non-empty.
 */
const RULES: EventRules = {
  oneChoice: true,
  reasoning: (e) => {
    const extras = [e.signature, e.redacted].filter((x) => x !== undefined);
    if (extras.length > 1) return false;
    return e.choice === 0 && typeof e.text === 'string' && (extras.length === 0 ? e.text.length > 0 : e.text === '' && typeof extras[0] === 'string' && extras[0].length > 0);
  },
};

describe('Anthropic stream decoder: hostile payloads', () => {
  // A real stream's opening, usage-less so that no hostile usage can repeat a usage event: a text
  // block 0, a tool block 1 and a thinking block 2 are open.
  const opening =
    messageStart() +
    sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    sse({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_h', name: 'f', input: {} } }) +
    sse({ type: 'content_block_start', index: 2, content_block: { type: 'thinking', thinking: '' } });
  const opened: StreamEvent[] = [start, { type: 'tool_call', choice: 0, index: 0, id: 'toolu_h', name: 'f', arguments: '' }];

  const hostile = [
    'null',
    '5',
    '"text"',
    'true',
    '[]',
    '[null]',
    '{}',
    'not json',
    '{"type":',
    '{"type":5}',
    '{"type":null}',
    '{"type":"a_future_event","index":0}',
    '{"type":"message_start","message":{"id":"msg_again","usage":{"input_tokens":5}}}',
    '{"type":"message_start","message":5}',
    '{"type":"content_block_start"}',
    '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"duplicate index"}}',
    '{"type":"content_block_start","index":"3","content_block":{"type":"text","text":"x"}}',
    '{"type":"content_block_start","index":-1,"content_block":{"type":"text","text":"x"}}',
    '{"type":"content_block_start","index":0.5,"content_block":{"type":"text","text":"x"}}',
    '{"type":"content_block_start","index":1e9,"content_block":{"type":"text","text":"x"}}',
    '{"type":"content_block_start","index":3,"content_block":null}',
    '{"type":"content_block_start","index":3,"content_block":{"type":"text","text":5}}',
    '{"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_x"}}',
    '{"type":"content_block_start","index":5,"content_block":{"type":"tool_use","id":"toolu_x","name":7}}',
    '{"type":"content_block_start","index":6,"content_block":{"type":"redacted_thinking","data":7}}',
    '{"type":"content_block_start","index":7,"content_block":{"type":"thinking","thinking":["x"],"signature":{}}}',
    '{"type":"content_block_delta"}',
    '{"type":"content_block_delta","index":0,"delta":null}',
    '{"type":"content_block_delta","index":0,"delta":5}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{"t":"x"}}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"not a thinking block"}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"not a tool block"}}',
    '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"not a text block"}}',
    '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":7}}',
    '{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":null}}',
    '{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":false}}',
    '{"type":"content_block_delta","index":99,"delta":{"type":"text_delta","text":"no such block"}}',
    '{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"string index"}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}',
    '{"type":"content_block_stop","index":"0"}',
    '{"type":"content_block_stop","index":42}',
    '{"type":"message_delta"}',
    '{"type":"message_delta","delta":null,"usage":null}',
    '{"type":"message_delta","delta":{"stop_reason":5},"usage":5}',
    '{"type":"message_delta","delta":{"stop_reason":{"r":"end_turn"}},"usage":{"output_tokens":"5"}}',
    '{"type":"message_delta","delta":{},"usage":{"output_tokens":-1,"input_tokens":1.5,"cache_read_input_tokens":null}}',
  ];

  it.each(hostile)('%s gives no events and does not throw', (payload) => {
    const frames = decodeAll([encode(`${opening}event: content_block_delta\ndata: ${payload}\n\n`)]);
    expect(eventsOf(frames)).toEqual(opened);
    expect(frames).toHaveLength(5);
  });

  itSurvivesDeepJson(decodeAll);

  it('ignores tool calls past the most it believes, and block indexes past the most it tracks', () => {
    const many = Array.from({ length: 130 }, (_, i) => sse({ type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: `toolu_${i}`, name: 'f', input: {} } })).join('');
    const calls = eventsOf(decodeAll([encode(many)]));
    expect(calls).toHaveLength(128);
    expect(calls.at(-1)).toEqual({ type: 'tool_call', choice: 0, index: 127, id: 'toolu_127', name: 'f', arguments: '' });
    expect(eventsOf(decodeAll([encode(sse({ type: 'content_block_start', index: 1024, content_block: { type: 'text', text: 'far' } }))]))).toEqual([]);
  });

  it('never throws on any JSON, and emits only well-formed events (property)', () => {
    const kind = fc.constantFrom('message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'error', 'ping');
    const blockType = fc.constantFrom('text', 'thinking', 'redacted_thinking', 'tool_use', 'server_tool_use');
    const deltaType = fc.constantFrom('text_delta', 'thinking_delta', 'signature_delta', 'input_json_delta', 'citations_delta');
    const index = fc.oneof(fc.integer({ min: -1, max: 4 }), fc.jsonValue());
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          type: kind,
          index,
          message: fc.jsonValue(),
          content_block: fc.record({ type: blockType, text: fc.jsonValue(), thinking: fc.jsonValue(), data: fc.jsonValue(), id: fc.jsonValue(), name: fc.jsonValue(), input: fc.jsonValue() }, { requiredKeys: [] }),
          delta: fc.record({ type: deltaType, text: fc.jsonValue(), thinking: fc.jsonValue(), signature: fc.jsonValue(), partial_json: fc.jsonValue(), stop_reason: fc.jsonValue() }, { requiredKeys: [] }),
          usage: fc.jsonValue(),
          error: fc.jsonValue(),
        },
        { requiredKeys: ['type'] },
      ),
    );
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 12 }), (payloads) => {
        const events = eventsOf(decodeAll([encode(payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`).join(''))]));
        expect(events.filter((e) => !wellFormed(e, RULES))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Anthropic stream decoder: limits', () => {
  itBoundsSseFrames(decodeAll, encode(`${messageStart()}${sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x'.repeat(5_000) } })}`));
  itRefusesEndlessLine(anthropicAdapter);
  itPassesFramesUnderLimit(
    decodeAll,
    encode(
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        Array.from({ length: 30 }, (_, i) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${i}`.padEnd(400, '.') } })).join(''),
    ),
  );
});
