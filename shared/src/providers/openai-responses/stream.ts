import type { StreamEvent } from '../../canonical/events.ts';
import type { SseEvent } from '../../wire/sse.ts';
import type { DecodedFrame } from '../adapter.ts';
import { arrayField, asRecord, field, indexField, stringField } from '../json.ts';
import { SseStreamDecoder } from '../sse-decoder.ts';
import { readResponseFinish } from './finish.ts';
import { createdAt, MAX_TOOL_CALLS, responseChoice } from './response.ts';
import { readResponsesUsage } from './usage.ts';

/**
 * Bounds on the per-stream state a provider's indexes can create: output items by `output_index`,
 * and within one item the parts (`content_index`, `summary_index`) remembered as streamed.
 */
const MAX_ITEMS = 256;
const MAX_ITEM_PARTS = 64;

/** What an output index holds, for the events that follow its `output_item.added`. */
type Item =
  /** `streamed`: the parts whose deltas came, so their `done` events do not repeat them. */
  | { kind: 'message' | 'reasoning'; streamed: Set<string> }
  /** `call`: the call's index in the choice; `start`: arguments the added item carried whole. */
  | { kind: 'call'; call: number; start: string; sawDelta: boolean }
  /** Items the gateway does not translate, and items already done. */
  | { kind: 'done' };

/** A frame with nothing to read or pass on (a fresh one each time: frames are the caller's). */
const nothing = (): DecodedFrame => ({ events: [], raw: null, terminal: false });
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** The part kinds whose text a stream carries, with the events naming them and what they become. */
const PIECES = {
  'response.output_text.delta': { item: 'message', part: 'content_index', key: 't', text: 'delta', whole: false, becomes: 'text' },
  'response.output_text.done': { item: 'message', part: 'content_index', key: 't', text: 'text', whole: true, becomes: 'text' },
  'response.refusal.delta': { item: 'message', part: 'content_index', key: 'r', text: 'delta', whole: false, becomes: 'refusal' },
  'response.refusal.done': { item: 'message', part: 'content_index', key: 'r', text: 'refusal', whole: true, becomes: 'refusal' },
  'response.reasoning_summary_text.delta': { item: 'reasoning', part: 'summary_index', key: 's', text: 'delta', whole: false, becomes: 'reasoning' },
  'response.reasoning_summary_text.done': { item: 'reasoning', part: 'summary_index', key: 's', text: 'text', whole: true, becomes: 'reasoning' },
  'response.reasoning_text.delta': { item: 'reasoning', part: 'content_index', key: 'c', text: 'delta', whole: false, becomes: 'reasoning' },
  'response.reasoning_text.done': { item: 'reasoning', part: 'content_index', key: 'c', text: 'text', whole: true, becomes: 'reasoning' },
} as const;
type PieceType = keyof typeof PIECES;

function isPiece(type: string): type is PieceType {
  return Object.hasOwn(PIECES, type);
}

/**
 * Responses API SSE events into canonical events. Per-stream state: whether the start went out,
 * and per output index what the item is, so each delta is read for its item: message text and
 * refusals, reasoning (summaries, or raw reasoning text), and function calls, whose argument deltas
 * belong to the call opened by their item. The kind of an event is its JSON `type` (OpenAI repeats
 * it on the `event:` line). A `done` event carries its part whole: it yields text only when no delta
 * did (servers that do not stream deltas), as does `output_item.done`, and the final response when
 * nothing at all was streamed.
 *
 * `response.completed` and `response.incomplete` end the stream with the finish reason and usage;
 * `response.failed` and `error` events are errors. These end events are terminal but, unlike
 * `[DONE]`, they are also the answer's last part, so they keep their raw text for a client that
 * speaks the Responses API (whose codec decides what reaches it). Data that is not a JSON object
 * yields nothing.
 */
export class ResponsesStreamDecoder extends SseStreamDecoder {
  private started = false;
  private content = false;
  private readonly items = new Map<number, Item>();
  private calls = 0;

  protected frame(event: SseEvent): DecodedFrame {
    if (event.type === 'comment') return nothing();
    // Compatible servers may end with OpenAI chat's marker after the last event.
    if (event.type === 'done') return { events: [], raw: null, terminal: true };
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      // Not JSON (a cut or broken event): nothing to read, and nothing to pass on to a client.
      return nothing();
    }
    if (!asRecord(payload)) return nothing();
    const type = stringField(payload, 'type') ?? event.event ?? '';
    const events = this.events(type, payload);
    if (events.some((e) => e.type === 'text' || e.type === 'refusal' || e.type === 'reasoning' || e.type === 'tool_call')) this.content = true;
    return { events, raw: event.data, terminal: TERMINAL.has(type) };
  }

  private events(type: string, payload: unknown): StreamEvent[] {
    if (isPiece(type)) return this.piece(PIECES[type], payload);
    switch (type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
        return this.start(field(payload, 'response'));
      case 'response.output_item.added':
        return this.itemAdded(indexField(payload, 'output_index', MAX_ITEMS), field(payload, 'item'));
      case 'response.output_item.done':
        return this.itemDone(indexField(payload, 'output_index', MAX_ITEMS), field(payload, 'item'));
      case 'response.function_call_arguments.delta':
        return this.callArguments(payload, stringField(payload, 'delta'), false);
      case 'response.function_call_arguments.done':
        return this.callArguments(payload, stringField(payload, 'arguments'), true);
      case 'response.completed':
      case 'response.incomplete':
        return this.finished(type, field(payload, 'response'));
      case 'response.failed': {
        const response = field(payload, 'response');
        const error = field(response, 'error');
        const usage = readResponsesUsage(field(response, 'usage'));
        return [
          ...this.start(response),
          ...(usage !== null ? [{ type: 'usage', usage } as const] : []),
          { type: 'error', message: stringField(error, 'message') ?? 'provider error', code: stringField(error, 'code') },
        ];
      }
      case 'error': {
        // Flat as documented ({type, code, message, param}); some servers nest an `error` object.
        const nested = field(payload, 'error');
        return [{ type: 'error', message: stringField(payload, 'message') ?? stringField(nested, 'message') ?? 'provider error', code: stringField(payload, 'code') ?? stringField(nested, 'code') ?? stringField(nested, 'type') }];
      }
      default:
        return [];
    }
  }

  private start(response: unknown): StreamEvent[] {
    if (this.started) return [];
    const id = stringField(response, 'id');
    if (!id) return [];
    this.started = true;
    return [{ type: 'start', id, model: stringField(response, 'model') ?? '', created: createdAt(response) }];
  }

  /** A text piece of a message or reasoning item; an item a delta names without having added it is opened for it. */
  private piece(piece: (typeof PIECES)[PieceType], payload: unknown): StreamEvent[] {
    const index = indexField(payload, 'output_index', MAX_ITEMS);
    if (index === null) return [];
    let item = this.items.get(index);
    if (item === undefined) {
      item = { kind: piece.item, streamed: new Set() };
      this.items.set(index, item);
    }
    const part = indexField(payload, piece.part, MAX_ITEM_PARTS);
    if ((item.kind !== 'message' && item.kind !== 'reasoning') || item.kind !== piece.item || part === null) return [];
    const key = `${piece.key}${part}`;
    if (piece.whole && item.streamed.has(key)) return [];
    item.streamed.add(key);
    const text = stringField(payload, piece.text);
    return text ? [{ type: piece.becomes, choice: 0, text }] : [];
  }

  private itemAdded(index: number | null, item: unknown): StreamEvent[] {
    if (index === null || this.items.has(index)) return [];
    switch (field(item, 'type')) {
      case 'message':
        this.items.set(index, { kind: 'message', streamed: new Set() });
        return [];
      case 'reasoning':
        this.items.set(index, { kind: 'reasoning', streamed: new Set() });
        return [];
      case 'function_call': {
        const name = stringField(item, 'name');
        if (name === null || this.calls >= MAX_TOOL_CALLS) {
          this.items.set(index, { kind: 'done' });
          return [];
        }
        const call = this.calls++;
        this.items.set(index, { kind: 'call', call, start: stringField(item, 'arguments') ?? '', sawDelta: false });
        return [{ type: 'tool_call', choice: 0, index: call, id: stringField(item, 'call_id') || stringField(item, 'id') || `call_${call}`, name, arguments: '' }];
      }
      default:
        this.items.set(index, { kind: 'done' });
        return [];
    }
  }

  /** An item finished: whatever of it no delta carried, then it takes no more events. */
  private itemDone(index: number | null, item: unknown): StreamEvent[] {
    if (index === null) return [];
    // A server that sends only finished items: the item opens and closes at once.
    const out: StreamEvent[] = this.items.has(index) ? [] : this.itemAdded(index, item);
    const entry = this.items.get(index)!;
    this.items.set(index, { kind: 'done' });
    switch (entry.kind) {
      case 'call': {
        if (entry.sawDelta) return out;
        const args = stringField(item, 'arguments') || entry.start;
        return args ? [...out, { type: 'tool_call', choice: 0, index: entry.call, id: null, name: null, arguments: args }] : out;
      }
      case 'message':
      case 'reasoning': {
        const parts: [string, unknown[], string, string, 'text' | 'refusal' | 'reasoning'][] =
          entry.kind === 'message'
            ? [['t', arrayField(item, 'content'), 'output_text', 'text', 'text'], ['r', arrayField(item, 'content'), 'refusal', 'refusal', 'refusal']]
            : [['s', arrayField(item, 'summary'), 'summary_text', 'text', 'reasoning'], ['c', arrayField(item, 'content'), 'reasoning_text', 'text', 'reasoning']];
        for (const [key, list, type, name, becomes] of parts) {
          list.slice(0, MAX_ITEM_PARTS).forEach((part, j) => {
            const text = field(part, 'type') === type ? stringField(part, name) : null;
            if (text && !entry.streamed.has(`${key}${j}`)) out.push({ type: becomes, choice: 0, text });
          });
        }
        return out;
      }
      case 'done':
        return out;
    }
  }

  private callArguments(payload: unknown, text: string | null, whole: boolean): StreamEvent[] {
    const index = indexField(payload, 'output_index', MAX_ITEMS);
    const entry = index === null ? undefined : this.items.get(index);
    if (entry?.kind !== 'call' || (whole && entry.sawDelta)) return [];
    entry.sawDelta = true;
    return text ? [{ type: 'tool_call', choice: 0, index: entry.call, id: null, name: null, arguments: text }] : [];
  }

  private finished(type: 'response.completed' | 'response.incomplete', response: unknown): StreamEvent[] {
    const out = this.start(response);
    const incompleteReason = field(field(response, 'incomplete_details'), 'reason');
    if (!this.content) {
      // Nothing was streamed: the final response is the whole answer.
      const choice = responseChoice(arrayField(response, 'output'), type === 'response.incomplete' ? 'incomplete' : 'completed', incompleteReason);
      if (choice.reasoning) out.push({ type: 'reasoning', choice: 0, text: choice.reasoning });
      if (choice.text) out.push({ type: 'text', choice: 0, text: choice.text });
      if (choice.refusal) out.push({ type: 'refusal', choice: 0, text: choice.refusal });
      choice.toolCalls.forEach((call, i) => out.push({ type: 'tool_call', choice: 0, index: this.calls + i, id: call.id, name: call.name, arguments: call.arguments }));
      this.calls += choice.toolCalls.length;
    }
    out.push({ type: 'finish', choice: 0, reason: readResponseFinish(type === 'response.incomplete' ? 'incomplete' : 'completed', incompleteReason, this.calls > 0) });
    const usage = readResponsesUsage(field(response, 'usage'));
    if (usage !== null) out.push({ type: 'usage', usage });
    return out;
  }
}
