import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage } from '../../canonical/usage.ts';
import { encodeEventStreamMessage } from '../../wire/event-stream.ts';
import type { DecodedFrame, StreamLimits } from '../adapter.ts';
import { BONJOUR, parisToolCalls } from '../testing/conversations.ts';
import { cuts, eventsOf, fixtures, LIMITS, split, wellFormed, type EventRules } from '../testing/stream-harness.ts';
import { buildCaptures, concat, event, exception, hostilePrelude, messageStart, text, toolInput, toolStart } from './__fixtures__/captures.ts';
import { createBedrockAdapter } from './adapter.ts';

const NOW = 1_736_936_430;
const adapter = createBedrockAdapter(() => NOW);
const FIXTURES = fixtures(import.meta.dirname);
const capture = FIXTURES.read;

interface Run {
  frames: DecodedFrame[];
  /** `Name: message` of what the decoder threw, or null. */
  error: string | null;
}

/** Feeds the chunks and the end, collecting frames until the decoder throws (if it does). */
function run(chunks: Uint8Array[], limits: StreamLimits = LIMITS): Run {
  const decoder = adapter.newStreamDecoder(limits);
  const frames: DecodedFrame[] = [];
  try {
    for (const chunk of chunks) frames.push(...decoder.push(chunk));
    frames.push(...decoder.end());
    return { frames, error: null };
  } catch (error) {
    return { frames, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

const start: StreamEvent = { type: 'start', id: '', model: '', created: NOW };

interface Capture {
  file: string;
  events: StreamEvent[];
  /** Whether the metadata frame (the stream's last) came. */
  terminated: boolean;
  /** What the decoder throws after the events, if anything. */
  error: string | null;
}

const captures: Capture[] = [
  {
    file: 'converse-stream-text.eventstream',
    terminated: true,
    error: null,
    events: [
      start,
      ...BONJOUR,
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 21, output: 6 }) },
    ],
  },
  {
    file: 'converse-stream-two-tool-uses.eventstream',
    terminated: true,
    error: null,
    events: [
      start,
      { type: 'text', choice: 0, text: 'Let me check both.' },
      // Block 1 is the first tool call, block 2 the second: tool-call indexes count calls only.
      ...parisToolCalls('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'tooluse_Q3a9xYb2TkWc0pLm7NvR1s'),
      { type: 'finish', choice: 0, reason: 'tool_calls' },
      { type: 'usage', usage: usage({ input: 412, output: 96 }) },
    ],
  },
  {
    file: 'converse-stream-reasoning.eventstream',
    terminated: true,
    error: null,
    events: [
      start,
      { type: 'reasoning', choice: 0, text: 'Compare the decimals:' },
      { type: 'reasoning', choice: 0, text: ' 0.9 > 0.11.' },
      // The reasoning signature delta has no canonical form and yields nothing.
      { type: 'text', choice: 0, text: '9.9 is larger.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      // Bedrock's outputTokens includes the thinking and gives no breakdown.
      { type: 'usage', usage: usage({ input: 18, output: 240 }) },
    ],
  },
  {
    file: 'converse-stream-cached-usage.eventstream',
    terminated: true,
    error: null,
    events: [
      start,
      { type: 'text', choice: 0, text: 'Here is the summary.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      // inputTokens 24 is the uncached input: totalTokens 1548 = 24 + 12 + 1024 + 488.
      { type: 'usage', usage: usage({ input: 24, cachedInput: 1024, cacheWrite: 488, output: 12 }) },
    ],
  },
  {
    file: 'converse-stream-exception.eventstream',
    terminated: false,
    error: null,
    events: [
      start,
      { type: 'text', choice: 0, text: 'Once upon' },
      { type: 'error', message: 'Received a model stream error from the model.', code: 'modelStreamErrorException' },
    ],
  },
  {
    file: 'converse-stream-cut-mid-frame.eventstream',
    terminated: false,
    error: null,
    events: [start, { type: 'text', choice: 0, text: 'Hello' }],
  },
  {
    file: 'converse-stream-bad-crc.eventstream',
    terminated: false,
    error: 'UpstreamFormatError: event-stream message CRC mismatch',
    // What came before the corrupt message, and nothing after it.
    events: [start, { type: 'text', choice: 0, text: 'Hello' }],
  },
  {
    file: 'converse-stream-oversized-length.eventstream',
    terminated: false,
    error: 'UpstreamFormatError: an event-stream message of 2147483647 bytes exceeds the limit of 1048576',
    events: [start],
  },
];

describe('Bedrock stream decoder: recorded captures', () => {
  it('has expectations for every capture on disk, and each file is what captures.ts builds', () => {
    const onDisk = FIXTURES.onDisk('.eventstream');
    expect(onDisk).toEqual(captures.map((c) => c.file).sort());
    const built = buildCaptures();
    expect(Object.keys(built).sort()).toEqual(onDisk);
    for (const file of onDisk) expect(capture(file)).toEqual(built[file]);
  });

  describe.each(captures.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const bytes = capture(c.file);

    it('decodes into exactly the canonical events', () => {
      const result = run([bytes]);
      expect(eventsOf(result.frames)).toEqual(c.events);
      expect(result.error).toBe(c.error);
      // Only the metadata frame is terminal; no frame carries raw text (nothing passes through).
      expect(result.frames.filter((f) => f.terminal).length).toBe(c.terminated ? 1 : 0);
      expect(result.frames.filter((f) => f.raw !== null)).toEqual([]);
    });

    it('gives the same events, and the same error, for every split of the bytes (property)', () => {
      fc.assert(
        fc.property(cuts, (points) => {
          const result = run(split(bytes, points));
          expect(eventsOf(result.frames)).toEqual(c.events);
          expect(result.error).toBe(c.error);
        }),
        { numRuns: 150 },
      );
    });

    it('gives the same events fed one byte at a time', () => {
      const result = run([...bytes].map((b) => Uint8Array.of(b)));
      expect(eventsOf(result.frames)).toEqual(c.events);
      expect(result.error).toBe(c.error);
    });
  });

  it('makes one frame per message, the metadata frame last and terminal', () => {
    const frames = run([capture('converse-stream-text.eventstream')]).frames;
    expect(frames.map((f) => [f.events.map((e) => e.type), f.terminal])).toEqual([
      [['start'], false],
      [['text'], false],
      [['text'], false],
      [['text'], false],
      [[], false],
      [['finish'], false],
      [['usage'], true],
    ]);
  });

  it('refuses the oversized length as soon as its prelude is in, without waiting for the body', () => {
    const decoder = adapter.newStreamDecoder({ maxFrameChars: 4096 });
    expect(eventsOf(decoder.push(messageStart()))).toEqual([start]);
    expect(() => decoder.push(hostilePrelude(0x7fff_ffff))).toThrow('an event-stream message of 2147483647 bytes exceeds the limit of 4096');
  });

  it('applies the frame limit to each message: a delta larger than the limit is refused', () => {
    const big = text(0, 'x'.repeat(5_000));
    expect(run([messageStart(), big], { maxFrameChars: 4096 }).error).toBe(`UpstreamFormatError: an event-stream message of ${big.length} bytes exceeds the limit of 4096`);
    expect(eventsOf(run([messageStart(), big], { maxFrameChars: big.length }).frames)).toEqual([start, { type: 'text', choice: 0, text: 'x'.repeat(5_000) }]);
  });
});

describe('Bedrock stream decoder: events', () => {
  it('emits start once per stream', () => {
    expect(eventsOf(run([messageStart(), messageStart(), text(0, 'a')]).frames)).toEqual([start, { type: 'text', choice: 0, text: 'a' }]);
  });

  it('maps every stop reason', () => {
    const reasons = ['end_turn', 'stop_sequence', 'max_tokens', 'model_context_window_exceeded', 'tool_use', 'guardrail_intervened', 'content_filtered', 'malformed_model_output', 'malformed_tool_use', 'some_future_reason'];
    const frames = run(reasons.map((stopReason) => event('messageStop', { stopReason }))).frames;
    expect(eventsOf(frames).map((e) => (e.type === 'finish' ? e.reason : e.type))).toEqual(['stop', 'stop', 'length', 'length', 'tool_calls', 'content_filter', 'content_filter', 'error', 'error', 'stop']);
  });

  it('keeps the stop sequence messageStop reports among the additional model fields, only with that stop reason', () => {
    const frames = run([
      event('messageStop', { stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: '###' } }),
      event('messageStop', { stopReason: 'end_turn', additionalModelResponseFields: { stop_sequence: '###' } }),
      event('messageStop', { stopReason: 'stop_sequence' }),
    ]).frames;
    expect(eventsOf(frames)).toEqual([
      { type: 'finish', choice: 0, reason: 'stop', stopSequence: '###' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
  });

  it('reads every exception Bedrock names, and the generic error message type', () => {
    const frames = run([
      exception('throttlingException', { message: 'Too many requests, please wait before trying again.' }),
      exception('internalServerException', { Message: 'Internal error' }),
      exception('serviceUnavailableException', {}),
      exception('validationException', { message: 'Input is too long for requested model.' }),
      encodeEventStreamMessage([[':message-type', 'error'], [':error-code', 'InternalFailure'], [':error-message', 'stream failed']], ''),
      encodeEventStreamMessage([[':message-type', 'error']], ''),
    ]).frames;
    expect(eventsOf(frames)).toEqual([
      { type: 'error', message: 'Too many requests, please wait before trying again.', code: 'throttlingException' },
      { type: 'error', message: 'Internal error', code: 'internalServerException' },
      { type: 'error', message: 'provider error', code: 'serviceUnavailableException' },
      { type: 'error', message: 'Input is too long for requested model.', code: 'validationException' },
      { type: 'error', message: 'stream failed', code: 'InternalFailure' },
      { type: 'error', message: 'provider error', code: null },
    ]);
  });

  it('ignores a tool input delta for a block that never started, and a second start of one block', () => {
    const frames = run([
      messageStart(),
      toolInput(4, '{"orphan": 1}'),
      toolStart(1, 'tooluse_a', 'f'),
      toolStart(1, 'tooluse_b', 'g'),
      toolInput(1, '{}'),
    ]).frames;
    expect(eventsOf(frames)).toEqual([
      start,
      { type: 'tool_call', choice: 0, index: 0, id: 'tooluse_a', name: 'f', arguments: '' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{}' },
    ]);
  });

  it('believes at most 128 tool calls', () => {
    const starts = Array.from({ length: 130 }, (_, i) => toolStart(i, `tooluse_${i}`, 'f'));
    const calls = eventsOf(run(starts).frames).filter((e) => e.type === 'tool_call');
    expect(calls.map((e) => (e.type === 'tool_call' ? e.index : -1))).toEqual(Array.from({ length: 128 }, (_, i) => i));
  });

  it('gives nothing for message types and event types it does not know', () => {
    const frames = run([
      encodeEventStreamMessage([[':message-type', 'notice'], [':event-type', 'messageStart']], '{}'),
      encodeEventStreamMessage([[':event-type', 'messageStart']], '{}'),
      event('somethingNew', { detail: 1 }),
      event('contentBlockStop', { contentBlockIndex: 0 }),
    ]).frames;
    expect(frames).toEqual([
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: false },
      { events: [], raw: null, terminal: false },
    ]);
  });
});

/** Converse answers one choice, names neither answer nor model, and may end broken (`error`). */
const RULES: EventRules = {
  oneChoice: true,
  finishReasons: ['stop', 'length', 'tool_calls', 'content_filter', 'error'],
  start: (e) => e.id === '' && e.model === '' && e.created === NOW,
};

describe('Bedrock stream decoder: hostile payloads', () => {
  const hostile: [string, string][] = [
    ['messageStart', 'not json'],
    ['messageStart', ''],
    ['contentBlockDelta', 'null'],
    ['contentBlockDelta', '5'],
    ['contentBlockDelta', '[]'],
    ['contentBlockDelta', '{"delta":null}'],
    ['contentBlockDelta', '{"delta":{"text":5}}'],
    ['contentBlockDelta', '{"delta":{"text":""}}'],
    ['contentBlockDelta', '{"delta":{"text":["x"]}}'],
    ['contentBlockDelta', '{"delta":{"reasoningContent":"x"}}'],
    ['contentBlockDelta', '{"delta":{"reasoningContent":{"text":7}}}'],
    ['contentBlockDelta', '{"contentBlockIndex":0,"delta":{"toolUse":{"input":5}}}'],
    ['contentBlockDelta', '{"contentBlockIndex":"0","delta":{"toolUse":{"input":"x"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":-1,"start":{"toolUse":{"toolUseId":"a","name":"f"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":1e9,"start":{"toolUse":{"toolUseId":"a","name":"f"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":0.5,"start":{"toolUse":{"toolUseId":"a","name":"f"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":5,"name":"f"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"a"}}}'],
    ['contentBlockStart', '{"contentBlockIndex":0,"start":null}'],
    ['messageStop', '{"stopReason":5}'],
    ['messageStop', '{}'],
    ['metadata', '{"usage":5}'],
    ['metadata', '{"usage":{"inputTokens":"5","outputTokens":1}}'],
    ['metadata', '{"usage":{"inputTokens":-1,"outputTokens":1}}'],
    ['metadata', '{"usage":{"inputTokens":1.5,"outputTokens":1}}'],
    ['metadata', '{"usage":{"inputTokens":1}}'],
    ['metadata', '{}'],
  ];

  it.each(hostile)('%s %s gives no events and does not throw', (type, payload) => {
    const hostileMessage = encodeEventStreamMessage([[':event-type', type], [':content-type', 'application/json'], [':message-type', 'event']], payload);
    const result = run([messageStart(), hostileMessage]);
    expect(result.error).toBe(null);
    expect(eventsOf(result.frames)).toEqual([start]);
  });

  it('survives deeply nested JSON', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(run([encodeEventStreamMessage([[':event-type', 'contentBlockDelta'], [':message-type', 'event']], deep)], { maxFrameChars: 1 << 20 })).toEqual({ frames: [{ events: [], raw: null, terminal: false }], error: null });
  });

  it('never throws on valid framing whatever the headers and JSON, and emits only well-formed events (property)', () => {
    const eventType = fc.constantFrom('messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata', 'other');
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          contentBlockIndex: fc.oneof(fc.nat(5), fc.jsonValue()),
          delta: fc.oneof(fc.record({ text: fc.jsonValue(), toolUse: fc.record({ input: fc.jsonValue() }), reasoningContent: fc.record({ text: fc.jsonValue() }) }, { requiredKeys: [] }), fc.jsonValue()),
          start: fc.oneof(fc.record({ toolUse: fc.record({ toolUseId: fc.jsonValue(), name: fc.jsonValue() }, { requiredKeys: [] }) }), fc.jsonValue()),
          stopReason: fc.jsonValue(),
          usage: fc.oneof(fc.record({ inputTokens: fc.jsonValue(), outputTokens: fc.jsonValue(), totalTokens: fc.jsonValue(), cacheReadInputTokens: fc.jsonValue(), cacheWriteInputTokens: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
          message: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    const message = fc.tuple(fc.constantFrom('event', 'exception', 'error', 'other'), eventType, payload).map(([kind, type, body]) =>
      encodeEventStreamMessage(
        [
          [kind === 'exception' ? ':exception-type' : ':event-type', type],
          [':message-type', kind],
        ],
        JSON.stringify(body) ?? '',
      ),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), cuts, (messages, points) => {
        const result = run(split(concat(...messages), points));
        expect(result.error).toBe(null);
        expect(eventsOf(result.frames).filter((e) => !wellFormed(e, RULES))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
