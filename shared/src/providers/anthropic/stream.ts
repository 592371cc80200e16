import type { StreamEvent } from '../../canonical/events.ts';
import type { SseEvent } from '../../wire/sse.ts';
import type { DecodedFrame } from '../adapter.ts';
import { SseStreamDecoder } from '../sse-decoder.ts';
import { asRecord, field, indexField, stringField } from '../json.ts';
import { readStopReason, readStopSequence } from './finish.ts';
import { MAX_CONTENT_BLOCKS, MAX_TOOL_CALLS, toolArguments } from './response.ts';
import { mergeCounts, readAnthropicCounts, usageOfCounts, type AnthropicCounts } from './usage.ts';

/** What a content block index holds, for the deltas that follow its start. */
type Block =
  | { kind: 'text' }
  | { kind: 'thinking' }
  /** `call`: the tool call's index in the choice; `startInput`: arguments a start carried whole. */
  | { kind: 'tool'; call: number; startInput: string; sawDelta: boolean }
  /** Blocks the gateway does not translate (server tools, kinds added later), and stopped blocks. */
  | { kind: 'ignored' };

const NO_COUNTS: AnthropicCounts = { input: null, cachedInput: null, cacheWrite: null, output: null };

/**
 * Messages SSE events into canonical events. Per-stream state: whether the start went out, the
 * usage counts so far (message_start's input and cache counts, message_delta's cumulative output),
 * and per content-block index what the block is, so each delta is read for its block: text,
 * thinking (with its signature), or a tool call whose `input_json_delta` pieces carry the
 * arguments. The event's kind is read from its JSON `type`, which Anthropic always repeats from the
 * SSE `event:` line. Data that is not JSON, or JSON of another shape, yields no events.
 */
export class AnthropicStreamDecoder extends SseStreamDecoder {
  private started = false;
  private counts: AnthropicCounts = NO_COUNTS;
  private readonly blocks = new Map<number, Block>();
  private toolCalls = 0;

  protected frame(event: SseEvent): DecodedFrame {
    if (event.type === 'comment') return { events: [], raw: null, terminal: false };
    if (event.type === 'done') return { events: [], raw: null, terminal: true };
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      // Not JSON (a cut or broken event): nothing to read, and nothing to pass on to a client.
      return { events: [], raw: null, terminal: false };
    }
    const type = stringField(payload, 'type') ?? event.event;
    // The end marker and keep-alives carry nothing to pass on: the client's codec writes its own.
    if (type === 'message_stop') return { events: [], raw: null, terminal: true };
    if (type === 'ping') return { events: [], raw: null, terminal: false };
    return { events: this.events(type, payload), raw: event.data, terminal: false };
  }

  private events(type: string | null, payload: unknown): StreamEvent[] {
    switch (type) {
      case 'message_start':
        return this.messageStart(field(payload, 'message'));
      case 'content_block_start':
        return this.blockStart(indexField(payload, 'index', MAX_CONTENT_BLOCKS), field(payload, 'content_block'));
      case 'content_block_delta':
        return this.blockDelta(indexField(payload, 'index', MAX_CONTENT_BLOCKS), field(payload, 'delta'));
      case 'content_block_stop':
        return this.blockStop(indexField(payload, 'index', MAX_CONTENT_BLOCKS));
      case 'message_delta':
        return this.messageDelta(payload);
      case 'error': {
        const error = field(payload, 'error');
        return [{ type: 'error', message: stringField(error, 'message') ?? 'provider error', code: stringField(error, 'type') }];
      }
      default:
        return [];
    }
  }

  private usageEvent(): StreamEvent[] {
    const usage = usageOfCounts(this.counts);
    return usage === null ? [] : [{ type: 'usage', usage }];
  }

  private messageStart(message: unknown): StreamEvent[] {
    if (this.started || asRecord(message) === null) return [];
    this.started = true;
    this.counts = mergeCounts(this.counts, readAnthropicCounts(field(message, 'usage')));
    // Anthropic's message carries no creation time: the start is stamped when it arrives.
    const start: StreamEvent = { type: 'start', id: stringField(message, 'id') ?? '', model: stringField(message, 'model') ?? '', created: Math.floor(Date.now() / 1000) };
    return [start, ...this.usageEvent()];
  }

  private blockStart(index: number | null, block: unknown): StreamEvent[] {
    if (index === null || this.blocks.has(index)) return [];
    switch (field(block, 'type')) {
      case 'text': {
        this.blocks.set(index, { kind: 'text' });
        const text = stringField(block, 'text');
        return text ? [{ type: 'text', choice: 0, text }] : [];
      }
      case 'thinking': {
        this.blocks.set(index, { kind: 'thinking' });
        const out: StreamEvent[] = [];
        const text = stringField(block, 'thinking');
        if (text) out.push({ type: 'reasoning', choice: 0, text });
        const signature = stringField(block, 'signature');
        if (signature) out.push({ type: 'reasoning', choice: 0, text: '', signature });
        return out;
      }
      case 'redacted_thinking': {
        this.blocks.set(index, { kind: 'ignored' });
        const data = stringField(block, 'data');
        return data ? [{ type: 'reasoning', choice: 0, text: '', redacted: data }] : [];
      }
      case 'tool_use': {
        const name = stringField(block, 'name');
        if (name === null || this.toolCalls >= MAX_TOOL_CALLS) {
          this.blocks.set(index, { kind: 'ignored' });
          return [];
        }
        const call = this.toolCalls++;
        const input = asRecord(field(block, 'input'));
        this.blocks.set(index, { kind: 'tool', call, startInput: input !== null && Object.keys(input).length > 0 ? toolArguments(input) : '', sawDelta: false });
        return [{ type: 'tool_call', choice: 0, index: call, id: stringField(block, 'id') ?? `toolu_${call}`, name, arguments: '' }];
      }
      default:
        this.blocks.set(index, { kind: 'ignored' });
        return [];
    }
  }

  private blockDelta(index: number | null, delta: unknown): StreamEvent[] {
    const block = index === null ? undefined : this.blocks.get(index);
    if (block === undefined) return [];
    switch (field(delta, 'type')) {
      case 'text_delta': {
        const text = stringField(delta, 'text');
        return block.kind === 'text' && text ? [{ type: 'text', choice: 0, text }] : [];
      }
      case 'thinking_delta': {
        const text = stringField(delta, 'thinking');
        return block.kind === 'thinking' && text ? [{ type: 'reasoning', choice: 0, text }] : [];
      }
      case 'signature_delta': {
        const signature = stringField(delta, 'signature');
        return block.kind === 'thinking' && signature ? [{ type: 'reasoning', choice: 0, text: '', signature }] : [];
      }
      case 'input_json_delta': {
        if (block.kind !== 'tool') return [];
        block.sawDelta = true;
        const partial = stringField(delta, 'partial_json');
        return partial ? [{ type: 'tool_call', choice: 0, index: block.call, id: null, name: null, arguments: partial }] : [];
      }
      default:
        return [];
    }
  }

  private blockStop(index: number | null): StreamEvent[] {
    const block = index === null ? undefined : this.blocks.get(index);
    if (index === null || block === undefined) return [];
    // A stopped block takes no more deltas; its index stays taken.
    this.blocks.set(index, { kind: 'ignored' });
    // A start that carried its input whole and no deltas after it (the SDKs read it the same way).
    if (block.kind === 'tool' && !block.sawDelta && block.startInput !== '') {
      return [{ type: 'tool_call', choice: 0, index: block.call, id: null, name: null, arguments: block.startInput }];
    }
    return [];
  }

  private messageDelta(payload: unknown): StreamEvent[] {
    const out: StreamEvent[] = [];
    const delta = field(payload, 'delta');
    const reason = readStopReason(field(delta, 'stop_reason'));
    const stopSequence = readStopSequence(field(delta, 'stop_reason'), field(delta, 'stop_sequence'));
    if (reason !== null) out.push({ type: 'finish', choice: 0, reason, ...(stopSequence !== null ? { stopSequence } : {}) });
    this.counts = mergeCounts(this.counts, readAnthropicCounts(field(payload, 'usage')));
    out.push(...this.usageEvent());
    return out;
  }
}
