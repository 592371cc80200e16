import type { StreamEvent } from '../../canonical/events.ts';
import { EventStreamDecoder, EventStreamError, stringHeader, type EventStreamMessage } from '../../wire/event-stream.ts';
import { UpstreamFormatError, type DecodedFrame, type StreamDecoder, type StreamLimits } from '../adapter.ts';
import { field, indexField, stringField } from '../json.ts';
import { readStopReason, readStopSequence } from './finish.ts';
import { MAX_TOOL_CALLS } from './response.ts';
import { readBedrockUsage } from './usage.ts';

/** Content block indexes believed; Converse numbers blocks from 0 within one message. */
const MAX_CONTENT_BLOCKS = 4096;

const utf8 = new TextDecoder('utf-8');

/**
 * ConverseStream into canonical events. The body is AWS event-stream framing (wire/event-stream.ts);
 * each message's `:message-type` header says what it is:
 *  - `event`, named by `:event-type`, with a JSON payload: messageStart (role), contentBlockStart
 *    (a tool use's id and name), contentBlockDelta (text, a tool use's input as partial JSON text,
 *    or reasoningContent), contentBlockStop, messageStop (stopReason), and metadata (usage,
 *    metrics), which comes last and so is the stream's terminal frame;
 *  - `exception`, named by `:exception-type` (throttlingException, modelStreamErrorException,
 *    validationException, internalServerException, serviceUnavailableException), with
 *    `{"message": ...}`: an error event;
 *  - `error`, with `:error-code` and `:error-message` headers: an error event.
 * Payloads carry a `p` padding field AWS adds against length analysis; it is ignored like any
 * unknown field. A payload that is not JSON, or JSON of another shape, yields no events.
 *
 * Per-stream state: whether the start went out, and which content block is which tool call
 * (canonical tool-call indexes count tool calls, Converse block indexes count every block).
 * No client speaks Bedrock to the gateway, so frames carry no raw text for a passthrough path.
 */
export class BedrockStreamDecoder implements StreamDecoder {
  private readonly messages: EventStreamDecoder;
  private started = false;
  private readonly toolCalls = new Map<number, number>();

  /** `now` gives the start event's creation time (Unix seconds): Converse sends none. */
  constructor(
    limits: StreamLimits,
    private readonly now: () => number,
  ) {
    // For this binary framing, the frame limit counts bytes.
    this.messages = new EventStreamDecoder(limits.maxFrameChars);
  }

  /**
   * Throws UpstreamFormatError on a CRC mismatch, a malformed message, or one over the limit; the
   * frames before the bad message come out first (the error then comes from the next call).
   */
  push(chunk: Uint8Array): DecodedFrame[] {
    return framingErrors(() => this.messages.push(chunk)).map((m) => this.frame(m));
  }

  /**
   * A message cut off by the end of the body cannot be checked and yields nothing. A stream cut
   * before messageStop has no finish event, which the relay reports as incomplete; one cut before
   * metadata has no usage, which metering then estimates.
   */
  end(): DecodedFrame[] {
    framingErrors(() => this.messages.end());
    return [];
  }

  private frame(message: EventStreamMessage): DecodedFrame {
    const type = stringHeader(message, ':message-type');
    if (type === 'exception') return this.exception(message);
    if (type === 'error') {
      return { events: [{ type: 'error', message: stringHeader(message, ':error-message') ?? 'provider error', code: stringHeader(message, ':error-code') }], raw: null, terminal: false };
    }
    if (type !== 'event') return { events: [], raw: null, terminal: false };
    const event = stringHeader(message, ':event-type');
    const payload = parseJson(message.payload);
    return { events: this.events(event, payload), raw: null, terminal: event === 'metadata' };
  }

  private exception(message: EventStreamMessage): DecodedFrame {
    const payload = parseJson(message.payload);
    const text = stringField(payload, 'message') ?? stringField(payload, 'Message') ?? stringField(payload, 'originalMessage') ?? 'provider error';
    return { events: [{ type: 'error', message: text, code: stringHeader(message, ':exception-type') }], raw: null, terminal: false };
  }

  private events(event: string | null, payload: unknown): StreamEvent[] {
    switch (event) {
      case 'messageStart':
        if (this.started) return [];
        this.started = true;
        return [{ type: 'start', id: '', model: '', created: this.now() }];
      case 'contentBlockStart': {
        const block = indexField(payload, 'contentBlockIndex', MAX_CONTENT_BLOCKS);
        const use = field(field(payload, 'start'), 'toolUse');
        const id = stringField(use, 'toolUseId');
        const name = stringField(use, 'name');
        if (block === null || id === null || name === null || this.toolCalls.has(block) || this.toolCalls.size >= MAX_TOOL_CALLS) return [];
        const index = this.toolCalls.size;
        this.toolCalls.set(block, index);
        return [{ type: 'tool_call', choice: 0, index, id, name, arguments: '' }];
      }
      case 'contentBlockDelta': {
        const delta = field(payload, 'delta');
        const text = stringField(delta, 'text');
        if (text) return [{ type: 'text', choice: 0, text }];
        // Only the thinking text is carried: signatures and redacted reasoning have no canonical form.
        const thought = stringField(field(delta, 'reasoningContent'), 'text');
        if (thought) return [{ type: 'reasoning', choice: 0, text: thought }];
        const input = stringField(field(delta, 'toolUse'), 'input');
        const block = indexField(payload, 'contentBlockIndex', MAX_CONTENT_BLOCKS);
        const index = block === null ? undefined : this.toolCalls.get(block);
        if (input && index !== undefined) return [{ type: 'tool_call', choice: 0, index, id: null, name: null, arguments: input }];
        return [];
      }
      case 'messageStop': {
        const reason = readStopReason(field(payload, 'stopReason'));
        const stopSequence = readStopSequence(field(payload, 'stopReason'), field(payload, 'additionalModelResponseFields'));
        return reason === null ? [] : [{ type: 'finish', choice: 0, reason, ...(stopSequence !== null ? { stopSequence } : {}) }];
      }
      case 'metadata': {
        const usage = readBedrockUsage(field(payload, 'usage'));
        return usage === null ? [] : [{ type: 'usage', usage }];
      }
      default:
        // contentBlockStop, and event types newer than this adapter.
        return [];
    }
  }
}

/** The framing's errors as the adapter contract's: the dispatcher classifies UpstreamFormatError. */
function framingErrors<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof EventStreamError) throw new UpstreamFormatError(error.message, error.tooLarge);
    throw error;
  }
}

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch {
    return undefined;
  }
}
