import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage } from '../../canonical/usage.ts';
import { BONJOUR, parisToolCalls } from '../testing/conversations.ts';
import {
  cuts,
  decodeWith,
  encode,
  eventsOf,
  fixtures,
  itBoundsSseFrames,
  itCoversEveryCapture,
  itPassesFramesUnderLimit,
  itReplaysAnySplit,
  itSurvivesDeepJson,
  split,
  wellFormed,
  type EventRules,
} from '../testing/stream-harness.ts';
import { openAIResponsesAdapter } from './adapter.ts';

const capture = fixtures(import.meta.dirname).read;
const decodeAll = decodeWith(openAIResponsesAdapter);

/** One Responses SSE event: its type on the event line, then its JSON. */
const sse = (json: { type: string } & Record<string, unknown>): string => `event: ${json.type}\ndata: ${JSON.stringify(json)}\n\n`;
const RESPONSE = { id: 'resp_x', object: 'response', created_at: 1_756_000_000, model: 'gpt-x', status: 'in_progress', output: [] };
const created = sse({ type: 'response.created', sequence_number: 0, response: RESPONSE });
const start: StreamEvent = { type: 'start', id: 'resp_x', model: 'gpt-x', created: 1_756_000_000 };
const added = (index: number, item: Record<string, unknown>): string => sse({ type: 'response.output_item.added', output_index: index, item });
const done = (index: number, item: Record<string, unknown>): string => sse({ type: 'response.output_item.done', output_index: index, item });
const textDelta = (index: number, delta: string, part = 0): string => sse({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: index, content_index: part, delta });
const completed = (response: Record<string, unknown> = {}): string => sse({ type: 'response.completed', response: { ...RESPONSE, status: 'completed', ...response } });

interface Capture {
  file: string;
  events: StreamEvent[];
  /** Whether the provider's end event came: a stream without one is incomplete. */
  terminated: boolean;
}

const captures: Capture[] = [
  {
    file: 'responses-stream-text.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0001text', model: 'gpt-4.1-mini-2025-04-14', created: 1756300000 },
      ...BONJOUR,
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 21, output: 6 }) },
    ],
  },
  {
    file: 'responses-stream-function-calls.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0002tools', model: 'gpt-4.1-2025-04-14', created: 1756300100 },
      // Each function_call item is the choice's next tool call; its call_id is the call's id.
      ...parisToolCalls('call_Yz1AbCdEf2GhIjKlMn3OpQ', 'call_Rs4TuVwXyZ5aBcDeFg6HiJ'),
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: usage({ input: 82, output: 47 }) },
    ],
  },
  {
    file: 'responses-stream-reasoning.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0003reason', model: 'o4-mini-2025-04-16', created: 1756300200 },
      { type: 'reasoning', choice: 0, text: '**Comparing decimals**\n\nCompare the decimals:' },
      { type: 'reasoning', choice: 0, text: ' 0.9 > 0.11.' },
      { type: 'text', choice: 0, text: '9.9' },
      { type: 'text', choice: 0, text: ' is larger.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      // input 1200 of which 1024 cached; output 530 of which 512 reasoning.
      { type: 'usage', usage: usage({ input: 176, cachedInput: 1024, output: 18, reasoning: 512 }) },
    ],
  },
  {
    file: 'responses-stream-refusal.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0008refuse', model: 'gpt-4o-2024-08-06', created: 1756300700 },
      { type: 'refusal', choice: 0, text: "I'm sorry," },
      { type: 'refusal', choice: 0, text: " I can't help with that." },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 30, output: 10 }) },
    ],
  },
  {
    file: 'responses-stream-incomplete.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0004cut', model: 'gpt-4.1-mini-2025-04-14', created: 1756300300 },
      { type: 'text', choice: 0, text: "The novel's themes" },
      { type: 'text', choice: 0, text: ' are pride and' },
      { type: 'finish', choice: 0, reason: 'length' },
      { type: 'usage', usage: usage({ input: 40, output: 16 }) },
    ],
  },
  {
    file: 'responses-stream-failed.sse',
    terminated: true,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0005fail', model: 'gpt-4.1-mini-2025-04-14', created: 1756300400 },
      { type: 'text', choice: 0, text: 'Once upon' },
      { type: 'error', message: 'An error occurred while processing your request. You can retry your request, or contact us through our help center if the error persists.', code: 'server_error' },
    ],
  },
  {
    file: 'responses-stream-error-event.sse',
    terminated: false,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0006limit', model: 'gpt-4.1-2025-04-14', created: 1756300500 },
      {
        type: 'error',
        message: 'Rate limit reached for gpt-4.1 in organization org-AbC123 on tokens per min (TPM): Limit 30000, Used 29990, Requested 220. Please try again in 420ms.',
        code: 'rate_limit_exceeded',
      },
    ],
  },
  {
    file: 'responses-stream-cut-mid-event.sse',
    terminated: false,
    events: [
      { type: 'start', id: 'resp_68b1c0ffee0007cut', model: 'gpt-4.1-mini-2025-04-14', created: 1756300600 },
      { type: 'text', choice: 0, text: 'Hello' },
    ],
  },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('Responses stream decoder: recorded captures', () => {
  itCoversEveryCapture(import.meta.dirname, captures.map((c) => c.file));

  describe.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const bytes = capture(c.file);

    it('decodes into exactly the canonical events', () => {
      const frames = decodeAll([bytes]);
      expect(eventsOf(frames)).toEqual(c.events);
      // The end event is terminal and is the answer's last frame: it keeps its raw text.
      expect(frames.filter((f) => f.terminal).map((f) => f === frames.at(-1) && f.raw !== null)).toEqual(c.terminated ? [true] : []);
    });

    it('keeps every event as the provider sent it, for the passthrough path', () => {
      const frames = decodeAll([bytes]);
      const text = new TextDecoder().decode(bytes);
      expect(frames.filter((f) => f.raw !== null).every((f) => text.includes(`data: ${f.raw}\n`))).toBe(true);
      expect(frames.filter((f) => f.raw === null).every((f) => f.events.length === 0)).toBe(true);
    });

    itReplaysAnySplit(decodeAll, bytes, c.events);
  });

  it('a stream cut mid-event: its half event yields nothing, is not passed on, and no end event comes', () => {
    const frames = decodeAll([capture('responses-stream-cut-mid-event.sse')]);
    expect(frames.map((f) => [f.events.length, f.raw === null, f.terminal])).toEqual([
      [1, false, false],
      [0, false, false],
      [0, false, false],
      [0, false, false],
      [1, false, false],
      [0, true, false],
    ]);
  });

  it('reads a tool call split across chunks the same whatever the chunking, arguments joined in order', () => {
    const bytes = capture('responses-stream-function-calls.sse');
    const argumentsOf = (events: StreamEvent[], index: number): string =>
      events.filter((e): e is Extract<StreamEvent, { type: 'tool_call' }> => e.type === 'tool_call' && e.index === index).map((e) => e.arguments).join('');
    fc.assert(
      fc.property(cuts, (points) => {
        const events = eventsOf(decodeAll(split(bytes, points)));
        expect([argumentsOf(events, 0), argumentsOf(events, 1)]).toEqual(['{"location": "Paris, France"}', '{"timezone": "Europe/Paris"}']);
      }),
      { numRuns: 100 },
    );
  });
});

describe('Responses stream decoder: events', () => {
  it('emits start once, from the first lifecycle event with an id', () => {
    const frames = decodeAll([
      encode(
        sse({ type: 'response.created', response: { ...RESPONSE, id: '' } }) +
          sse({ type: 'response.queued', response: RESPONSE }) +
          sse({ type: 'response.in_progress', response: { ...RESPONSE, id: 'resp_other' } }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([start]);
  });

  it('reads a completed response without usage as a finish alone, and an incomplete one cut by a content filter', () => {
    expect(eventsOf(decodeAll([encode(created + textDelta(0, 'a') + completed({ usage: null }))]))).toEqual([start, { type: 'text', choice: 0, text: 'a' }, { type: 'finish', choice: 0, reason: 'stop' }]);
    const filtered = sse({ type: 'response.incomplete', response: { ...RESPONSE, status: 'incomplete', incomplete_details: { reason: 'content_filter' } } });
    expect(eventsOf(decodeAll([encode(created + textDelta(0, 'a') + filtered)]))).toEqual([start, { type: 'text', choice: 0, text: 'a' }, { type: 'finish', choice: 0, reason: 'content_filter' }]);
  });

  it('takes text from a done event only when no delta carried it', () => {
    const whole = sse({ type: 'response.output_text.done', output_index: 0, content_index: 0, text: 'all at once' });
    const again = sse({ type: 'response.output_text.done', output_index: 0, content_index: 0, text: 'streamed' });
    expect(eventsOf(decodeAll([encode(created + added(0, { type: 'message', id: 'msg_1', content: [] }) + whole)]))).toEqual([start, { type: 'text', choice: 0, text: 'all at once' }]);
    expect(eventsOf(decodeAll([encode(created + textDelta(0, 'streamed') + again)]))).toEqual([start, { type: 'text', choice: 0, text: 'streamed' }]);
  });

  it('takes what no delta carried from output_item.done: arguments, text and reasoning', () => {
    const frames = decodeAll([
      encode(
        created +
          added(0, { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' }) +
          done(0, { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{"a":1}' }) +
          done(1, { type: 'message', id: 'msg_2', content: [{ type: 'output_text', text: 'hi' }, { type: 'refusal', refusal: 'no' }] }) +
          done(2, { type: 'reasoning', id: 'rs_3', summary: [{ type: 'summary_text', text: 'why' }] }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      start,
      { type: 'tool_call', choice: 0, index: 0, id: 'call_1', name: 'f', arguments: '' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{"a":1}' },
      { type: 'text', choice: 0, text: 'hi' },
      { type: 'refusal', choice: 0, text: 'no' },
      { type: 'reasoning', choice: 0, text: 'why' },
    ]);
  });

  it('ignores deltas for an item already done, and arguments.done after deltas', () => {
    const frames = decodeAll([
      encode(
        created +
          added(0, { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' }) +
          sse({ type: 'response.function_call_arguments.delta', output_index: 0, delta: '{}' }) +
          sse({ type: 'response.function_call_arguments.done', output_index: 0, arguments: '{}' }) +
          done(0, { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' }) +
          sse({ type: 'response.function_call_arguments.delta', output_index: 0, delta: 'late' }) +
          added(0, { type: 'function_call', id: 'fc_2', call_id: 'call_2', name: 'g', arguments: '' }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      start,
      { type: 'tool_call', choice: 0, index: 0, id: 'call_1', name: 'f', arguments: '' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{}' },
    ]);
  });

  it('reads raw reasoning text (open-weight models) as reasoning', () => {
    const delta = sse({ type: 'response.reasoning_text.delta', output_index: 0, content_index: 0, delta: 'think' });
    expect(eventsOf(decodeAll([encode(created + added(0, { type: 'reasoning', id: 'rs_1', summary: [] }) + delta)]))).toEqual([start, { type: 'reasoning', choice: 0, text: 'think' }]);
  });

  it('skips built-in tool items and their events', () => {
    const frames = decodeAll([encode(created + added(0, { type: 'web_search_call', id: 'ws_1', status: 'in_progress' }) + textDelta(0, 'x') + done(0, { type: 'web_search_call', id: 'ws_1' }))]);
    expect(eventsOf(frames)).toEqual([start]);
  });

  it('builds the answer from the final response when nothing was streamed', () => {
    const output = [
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'hmm' }] },
      { type: 'message', id: 'msg_1', content: [{ type: 'output_text', text: 'Done.' }] },
      { type: 'function_call', id: 'fc_1', call_id: 'call_9', name: 'f', arguments: '{}' },
    ];
    expect(eventsOf(decodeAll([encode(completed({ output, usage: { input_tokens: 5, output_tokens: 3 } }))]))).toEqual([
      { type: 'start', id: 'resp_x', model: 'gpt-x', created: 1_756_000_000 },
      { type: 'reasoning', choice: 0, text: 'hmm' },
      { type: 'text', choice: 0, text: 'Done.' },
      { type: 'tool_call', choice: 0, index: 0, id: 'call_9', name: 'f', arguments: '{}' },
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: usage({ input: 5, output: 3 }) },
    ]);
  });

  it('reads error events flat, nested, or with nothing but a type', () => {
    const frames = decodeAll([
      encode(
        sse({ type: 'error', code: 'server_error', message: 'boom', param: null }) +
          sse({ type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }) +
          sse({ type: 'error' }) +
          sse({ type: 'response.failed', response: { ...RESPONSE, status: 'failed', error: null, usage: { input_tokens: 3, output_tokens: 0 } } }),
      ),
    ]);
    expect(eventsOf(frames)).toEqual([
      { type: 'error', message: 'boom', code: 'server_error' },
      { type: 'error', message: 'bad', code: 'invalid_request_error' },
      { type: 'error', message: 'provider error', code: null },
      start,
      { type: 'usage', usage: usage({ input: 3 }) },
      { type: 'error', message: 'provider error', code: null },
    ]);
  });

  it('uses the event line when the JSON has no type, and ends at a [DONE] some compatible servers send', () => {
    const frames = decodeAll([encode(`event: response.created\ndata: ${JSON.stringify({ response: RESPONSE })}\n\n: keep-alive\n\ndata: [DONE]\n\n`)]);
    expect(frames).toEqual([
      { events: [start], raw: JSON.stringify({ response: RESPONSE }), terminal: false },
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: true },
    ]);
  });

  it('stamps the start with the clock when created_at is missing, and clamps a negative one', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_750_000_000_999);
    expect(eventsOf(decodeAll([encode(sse({ type: 'response.created', response: { id: 'resp_y' } }))]))).toEqual([{ type: 'start', id: 'resp_y', model: '', created: 1_750_000_000 }]);
    expect(eventsOf(decodeAll([encode(sse({ type: 'response.created', response: { id: 'resp_y', created_at: -4.5 } }))]))).toEqual([{ type: 'start', id: 'resp_y', model: '', created: 0 }]);
  });
});

/** A Responses stream answers one choice, and its start always names the response. */
const RULES: EventRules = { oneChoice: true, start: (e) => typeof e.id === 'string' && e.id.length > 0 && typeof e.model === 'string' && Number.isInteger(e.created) && e.created >= 0 };

describe('Responses stream decoder: hostile payloads', () => {
  const hostile = [
    'null',
    '5',
    '"text"',
    '[]',
    '[null]',
    '{}',
    'not json',
    '{"type":',
    '{"type":5}',
    '{"type":"response.output_item.added"}',
    '{"type":"response.output_item.added","output_index":1e9,"item":{"type":"message"}}',
    '{"type":"response.output_item.added","output_index":-1,"item":{"type":"message"}}',
    '{"type":"response.output_item.added","output_index":0.5,"item":{"type":"message"}}',
    '{"type":"response.output_item.added","output_index":"0","item":{"type":"message"}}',
    '{"type":"response.output_item.added","output_index":0,"item":null}',
    '{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","name":5}}',
    '{"type":"response.output_item.done","output_index":0,"item":5}',
    '{"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":"x"}}',
    '{"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":[null,5,{"type":"output_text","text":7}]}}',
    '{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":5}',
    '{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":{"text":"x"}}',
    '{"type":"response.output_text.delta","output_index":0,"content_index":1e9,"delta":"x"}',
    '{"type":"response.output_text.delta","delta":"no index"}',
    '{"type":"response.function_call_arguments.delta","output_index":0,"delta":"orphan"}',
    '{"type":"response.reasoning_summary_text.delta","output_index":0,"summary_index":-1,"delta":"x"}',
    '{"type":"response.completed"}',
    '{"type":"response.completed","response":5}',
    '{"type":"response.completed","response":{"id":7,"usage":{"input_tokens":"5","output_tokens":1}}}',
    '{"type":"response.incomplete","response":{"usage":{"input_tokens":-1,"output_tokens":1}}}',
    '{"type":"response.failed","response":null}',
    '{"type":"error","message":{"text":"x"},"code":5}',
  ];

  it.each(hostile)('%s does not throw and yields only well-formed events', (payload) => {
    // After a real start, so no start event can hide a missed one.
    const frames = decodeAll([encode(`${created}data: ${payload}\n\n`)]);
    expect(frames).toHaveLength(2);
    expect(eventsOf(frames).filter((e) => !wellFormed(e, RULES))).toEqual([]);
    expect(eventsOf(frames).filter((e) => e.type === 'text' || e.type === 'tool_call' || e.type === 'usage' || e.type === 'start').slice(1)).toEqual([]);
  });

  it('passes on only frames that are JSON objects', () => {
    const passed = hostile.filter((payload) => decodeAll([encode(`data: ${payload}\n\n`)])[0]!.raw !== null);
    expect(passed).toEqual(hostile.filter((payload) => payload.startsWith('{') && payload !== '{"type":'));
  });

  itSurvivesDeepJson(decodeAll);

  it('bounds the tool calls it believes and the items it remembers', () => {
    const many = Array.from({ length: 300 }, (_, i) => added(i, { type: 'function_call', id: `fc_${i}`, call_id: `call_${i}`, name: 'f', arguments: '' })).join('');
    const calls = eventsOf(decodeAll([encode(created + many)])).filter((e) => e.type === 'tool_call');
    expect(calls).toHaveLength(128);
  });

  it('never throws on any JSON, and emits only well-formed events (property)', () => {
    const type = fc.constantFrom(
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.output_item.done', 'response.output_text.delta', 'response.output_text.done',
      'response.refusal.delta', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.reasoning_summary_text.delta',
      'response.reasoning_text.done', 'response.completed', 'response.incomplete', 'response.failed', 'error',
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { type, output_index: fc.oneof(fc.nat(4), fc.jsonValue()), content_index: fc.oneof(fc.nat(2), fc.jsonValue()), summary_index: fc.nat(2), delta: fc.oneof(fc.string(), fc.jsonValue()), item: fc.jsonValue(), response: fc.jsonValue() },
        { requiredKeys: ['type'] },
      ),
    );
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 6 }), (payloads) => {
        const events = eventsOf(decodeAll([encode(payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`).join(''))]));
        expect(events.filter((e) => !wellFormed(e, RULES))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Responses stream decoder: limits', () => {
  itBoundsSseFrames(decodeAll, encode(`${created}${textDelta(0, 'x'.repeat(5_000))}`));
  itPassesFramesUnderLimit(decodeAll, encode(created + Array.from({ length: 30 }, (_, i) => textDelta(0, `${i}`.padEnd(400, '.'))).join('')));
});
