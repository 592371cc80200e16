import { formatSseEvent, type GatewayError, type Usage } from '@tollgate/shared';
import { asRecord, indexField, stringField, type JsonRecord } from '@tollgate/shared/providers/json';
import { writeResponsesUsage } from '@tollgate/shared/providers/openai-responses/usage';
import { responseError, responsesEvent } from './output.ts';

/** Output indexes remembered; a provider's larger ones are forwarded but not tracked. */
const MAX_ITEMS = 256;

/** An event name safe for the `event:` line: lower-case letters, digits, `.` and `_`, as the Responses API's are. */
function isEventName(name: string): boolean {
  if (name.length === 0 || name.length > 96) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46)) return false;
  }
  return true;
}

/**
 * The passthrough path of a Responses stream (the upstream speaks the Responses API too): the
 * provider's events go out as they came, except errors, which the pipeline renders. Meanwhile the
 * answer is followed as a client's accumulator would follow it (the response the provider created,
 * each output item with its deltas applied, which items are still open, the last sequence number),
 * so that a stream the gateway has to end itself (cut at the hold, or broken) still ends the way the
 * Responses API ends one: open items done, then one final lifecycle event whose output is what the
 * client was sent, numbered after the provider's events.
 */
export class PassedResponse {
  private base: JsonRecord | null = null;
  private readonly items = new Map<number, JsonRecord>();
  private readonly open = new Set<number>();
  private sequence = 0;
  /** The provider's own completed or incomplete event went out. */
  ended = false;

  /** `fallback`: the response object to end with when the provider's `response.created` never came. */
  constructor(private readonly fallback: () => JsonRecord) {}

  /** The provider's event as it came, or '' for what must not reach the client. */
  forward(raw: string): string {
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      // Half an event (a cut stream) or garbage: nothing a client could read.
      return '';
    }
    const record = asRecord(payload);
    const type = record?.type;
    if (record === null || typeof type !== 'string' || !isEventName(type)) return '';
    // Errors are the pipeline's to render (fail), in its own words.
    if (type === 'error' || type === 'response.failed') return '';
    const sequence = record.sequence_number;
    if (typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= this.sequence) this.sequence = sequence + 1;
    this.observe(type, record);
    return formatSseEvent({ type: 'data', data: raw, event: type, id: null });
  }

  private observe(type: string, record: JsonRecord): void {
    const index = indexField(record, 'output_index', MAX_ITEMS);
    const item = index === null ? undefined : this.items.get(index);
    switch (type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
        this.base = asRecord(record.response) ?? this.base;
        break;
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const added = asRecord(record.item);
        if (index === null || added === null) break;
        this.items.set(index, added);
        if (type === 'response.output_item.added') this.open.add(index);
        else this.open.delete(index);
        break;
      }
      case 'response.content_part.added':
        this.push(item, 'content', record.part);
        break;
      case 'response.reasoning_summary_part.added':
        this.push(item, 'summary', record.part);
        break;
      case 'response.output_text.delta':
        this.append(item, 'content', indexField(record, 'content_index', MAX_ITEMS), 'text', stringField(record, 'delta'));
        break;
      case 'response.refusal.delta':
        this.append(item, 'content', indexField(record, 'content_index', MAX_ITEMS), 'refusal', stringField(record, 'delta'));
        break;
      case 'response.reasoning_summary_text.delta':
        this.append(item, 'summary', indexField(record, 'summary_index', MAX_ITEMS), 'text', stringField(record, 'delta'));
        break;
      case 'response.function_call_arguments.delta': {
        const delta = stringField(record, 'delta');
        if (item !== undefined && delta !== null) item.arguments = (typeof item.arguments === 'string' ? item.arguments : '') + delta;
        break;
      }
      case 'response.completed':
      case 'response.incomplete':
        this.ended = true;
        break;
      default:
        break;
    }
  }

  private push(item: JsonRecord | undefined, list: string, part: unknown): void {
    const parts = item?.[list];
    const added = asRecord(part);
    if (Array.isArray(parts) && added !== null) parts.push(added);
  }

  private append(item: JsonRecord | undefined, list: string, index: number | null, name: string, delta: string | null): void {
    const parts = item?.[list];
    const part = Array.isArray(parts) && index !== null ? asRecord(parts[index]) : null;
    if (part === null || delta === null) return;
    const text = part[name];
    part[name] = (typeof text === 'string' ? text : '') + delta;
  }

  private event(type: string, fields: Record<string, unknown>): string {
    return responsesEvent(type, this.sequence++, fields);
  }

  /** Open items, done with their content so far. */
  private closeItems(status: 'completed' | 'incomplete'): string {
    let out = '';
    for (const index of [...this.open].sort((a, b) => a - b)) {
      const item = { ...this.items.get(index)!, status };
      this.items.set(index, item);
      out += this.event('response.output_item.done', { output_index: index, item });
    }
    this.open.clear();
    return out;
  }

  private response(fields: Record<string, unknown>): Record<string, unknown> {
    const output = [...this.items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
    return { ...(this.base ?? this.fallback()), ...fields, output };
  }

  /** Nothing when the provider ended the answer itself; else its items closed and an end of ours. */
  finish(usage: Usage, cutReason: 'length' | null): string {
    if (this.ended && cutReason === null) return '';
    this.ended = true;
    const cut = cutReason !== null;
    const out = this.closeItems(cut ? 'incomplete' : 'completed');
    const response = this.response({
      status: cut ? 'incomplete' : 'completed',
      incomplete_details: cut ? { reason: 'max_output_tokens' } : null,
      error: null,
      usage: writeResponsesUsage(usage),
    });
    return out + this.event(cut ? 'response.incomplete' : 'response.completed', { response });
  }

  fail(error: GatewayError): string {
    const out = this.closeItems('incomplete');
    const response = this.response({ status: 'failed', incomplete_details: null, error: responseError(error.message), usage: null });
    return out + this.event('response.failed', { response }) + this.event('error', { code: error.code, message: error.message, param: null });
  }
}
