import { crc32, encodeEventStreamMessage } from '../../../wire/event-stream.ts';

/**
 * ConverseStream captures, built from the Bedrock API reference (ConverseStreamOutput: event names,
 * payload fields, stop reasons, exception names) and AWS's event-stream framing. Each message has
 * the three headers Bedrock sends (`:event-type` or `:exception-type`, `:content-type`,
 * `:message-type`) and, in its JSON payload, the `p` padding field Bedrock adds against length
 * analysis. The .eventstream files beside this are these bytes written by write-captures.ts; a test
 * checks the files still equal what this builds, so they can be regenerated but not drift.
 */

// Deterministic stand-in for Bedrock's random padding letters.
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
let padded = 0;

function pad(): string {
  padded = (padded + 7) % PADDING.length;
  return PADDING.slice(0, 4 + padded);
}

export function event(type: string, payload: Record<string, unknown>): Uint8Array {
  return encodeEventStreamMessage(
    [
      [':event-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'event'],
    ],
    JSON.stringify({ ...payload, p: pad() }),
  );
}

export function exception(type: string, payload: Record<string, unknown>): Uint8Array {
  return encodeEventStreamMessage(
    [
      [':exception-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'exception'],
    ],
    JSON.stringify(payload),
  );
}

export const messageStart = (): Uint8Array => event('messageStart', { role: 'assistant' });
export const text = (block: number, t: string): Uint8Array => event('contentBlockDelta', { contentBlockIndex: block, delta: { text: t } });
export const blockStop = (block: number): Uint8Array => event('contentBlockStop', { contentBlockIndex: block });
export const toolStart = (block: number, toolUseId: string, name: string): Uint8Array =>
  event('contentBlockStart', { contentBlockIndex: block, start: { toolUse: { toolUseId, name } } });
export const toolInput = (block: number, input: string): Uint8Array => event('contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input } } });
export const reasoning = (block: number, delta: Record<string, unknown>): Uint8Array =>
  event('contentBlockDelta', { contentBlockIndex: block, delta: { reasoningContent: delta } });
export const messageStop = (stopReason: string): Uint8Array => event('messageStop', { stopReason });
export const metadata = (usage: Record<string, number>, latencyMs: number): Uint8Array => event('metadata', { usage, metrics: { latencyMs } });

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A prelude announcing `total` bytes, with a correct CRC: only the length is hostile. */
export function hostilePrelude(total: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, 0);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  return out;
}

/** A copy with one payload byte changed: the message CRC no longer matches. */
function corrupt(message: Uint8Array): Uint8Array {
  const out = message.slice();
  out[out.length - 8]! ^= 0x20;
  return out;
}

/** Every capture by file name; built in one go so the padding sequence is the same each time. */
export function buildCaptures(): Record<string, Uint8Array> {
  padded = 0;
  return {
    'converse-stream-text.eventstream': concat(
      messageStart(),
      text(0, 'Bonjour'),
      text(0, ' à tous'),
      text(0, ' 👋'),
      blockStop(0),
      messageStop('end_turn'),
      metadata({ inputTokens: 21, outputTokens: 6, totalTokens: 27 }, 412),
    ),
    'converse-stream-two-tool-uses.eventstream': concat(
      messageStart(),
      text(0, 'Let me check both.'),
      blockStop(0),
      toolStart(1, 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'get_weather'),
      toolInput(1, '{"lo'),
      toolInput(1, 'cation": "Par'),
      toolInput(1, 'is, France"}'),
      blockStop(1),
      toolStart(2, 'tooluse_Q3a9xYb2TkWc0pLm7NvR1s', 'get_local_time'),
      toolInput(2, '{"timezone"'),
      toolInput(2, ': "Europe/Paris"}'),
      blockStop(2),
      messageStop('tool_use'),
      metadata({ inputTokens: 412, outputTokens: 96, totalTokens: 508 }, 1830),
    ),
    'converse-stream-reasoning.eventstream': concat(
      messageStart(),
      reasoning(0, { text: 'Compare the decimals:' }),
      reasoning(0, { text: ' 0.9 > 0.11.' }),
      reasoning(0, { signature: 'EqoBCkgIAxABGAIiQL7bZ3VvYXNpZ25hdHVyZQ' }),
      blockStop(0),
      text(1, '9.9 is larger.'),
      blockStop(1),
      messageStop('end_turn'),
      metadata({ inputTokens: 18, outputTokens: 240, totalTokens: 258 }, 2210),
    ),
    'converse-stream-cached-usage.eventstream': concat(
      messageStart(),
      text(0, 'Here is the summary.'),
      blockStop(0),
      messageStop('end_turn'),
      metadata({ inputTokens: 24, outputTokens: 12, totalTokens: 1548, cacheReadInputTokens: 1024, cacheWriteInputTokens: 488 }, 640),
    ),
    'converse-stream-exception.eventstream': concat(
      messageStart(),
      text(0, 'Once upon'),
      exception('modelStreamErrorException', {
        message: 'Received a model stream error from the model.',
        originalStatusCode: 500,
        originalMessage: 'The model has encountered an internal error.',
      }),
    ),
    'converse-stream-cut-mid-frame.eventstream': concat(messageStart(), text(0, 'Hello'), text(0, ' world').subarray(0, 25)),
    'converse-stream-bad-crc.eventstream': concat(messageStart(), text(0, 'Hello'), corrupt(text(0, ' world')), messageStop('end_turn')),
    'converse-stream-oversized-length.eventstream': concat(messageStart(), hostilePrelude(0x7fff_ffff), new Uint8Array(100).fill(0x41)),
  };
}
