import type { FinishReason, GatewayError, StreamEvent, Usage } from '@tollgate/shared';
import { writeResponseFinish } from '@tollgate/shared/providers/openai-responses/finish';
import type { RenderContext, StreamRenderer } from '../codec.ts';
import {
  contentPart,
  functionCallItem,
  messageItem,
  OutputIds,
  reasoningItem,
  responseError,
  responseObject,
  responsesEvent,
  type ContentPartText,
  type ItemStatus,
  type ResponseStatus,
} from './output.ts';
import { PassedResponse } from './passed.ts';

type Json = Record<string, unknown>;

/** The message or reasoning item being written; its last part is the one deltas go to. */
type OpenItem = { kind: 'message'; index: number; id: string; parts: ContentPartText[] } | { kind: 'reasoning'; index: number; id: string; text: string };

/** A function_call item, by the canonical index of its call; calls stay open until the answer ends. */
interface CallItem {
  index: number;
  id: string;
  callId: string;
  name: string;
  arguments: string;
  done: boolean;
}

/**
 * Responses SSE events from canonical events, in the order the Responses API writes them:
 * `response.created` and `response.in_progress`; then output items with increasing output
 * indexes, each opened by `output_item.added` and closed by its `done` events and
 * `output_item.done` (a reasoning summary; a message whose content parts are text and refusals;
 * one `function_call` per tool call, its arguments as deltas); at the end one lifecycle event whose
 * response holds every item as it was sent and the billed usage: `response.completed`, or
 * `response.incomplete` (cut at the output cap or the hold, or filtered). Every event carries the
 * next sequence number; ids stay the same from the first event to the last, so clients'
 * accumulators (the SDKs check them) build exactly the final response.
 *
 * Message and reasoning items close when another item opens; function calls stay open until the
 * end, so a call's late argument pieces still land in its own item. On the passthrough path the
 * provider's events go out as they came (PassedResponse).
 */
export class ResponsesStreamRenderer implements StreamRenderer {
  private readonly ids: OutputIds;
  private id: string;
  private model: string;
  private createdAt = Math.floor(Date.now() / 1000);
  private sequence = 0;
  private begun = false;
  /** Every output item by output index, in the form last sent. */
  private readonly output: Json[] = [];
  private open: OpenItem | null = null;
  private readonly calls = new Map<number, CallItem>();
  private reason: FinishReason | null = null;
  private passed: PassedResponse | null = null;

  constructor(ctx: RenderContext) {
    this.ids = new OutputIds(ctx.requestId);
    this.id = this.ids.response(null);
    this.model = ctx.model;
  }

  private event(type: string, fields: Json): string {
    return responsesEvent(type, this.sequence++, fields);
  }

  private response(status: ResponseStatus, fields: { incompleteDetails?: { reason: string } | null; error?: { code: string; message: string } | null; usage?: Usage | null } = {}): Json {
    return responseObject({
      id: this.id,
      createdAt: this.createdAt,
      model: this.model,
      status,
      incompleteDetails: fields.incompleteDetails ?? null,
      error: fields.error ?? null,
      output: this.output,
      usage: fields.usage ?? null,
    });
  }

  private begin(): string {
    if (this.begun) return '';
    this.begun = true;
    const response = this.response('in_progress');
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private addItem(item: Json): number {
    this.output.push(item);
    return this.output.length - 1;
  }

  /** The current content part of a message: its done events. */
  private closePart(open: Extract<OpenItem, { kind: 'message' }>): string {
    const content_index = open.parts.length - 1;
    const part = open.parts[content_index];
    if (part === undefined) return '';
    const where = { item_id: open.id, output_index: open.index, content_index };
    const done =
      part.type === 'output_text'
        ? this.event('response.output_text.done', { ...where, text: part.text, logprobs: [] })
        : this.event('response.refusal.done', { ...where, refusal: part.text });
    return done + this.event('response.content_part.done', { ...where, part: contentPart(part) });
  }

  private closeOpen(status: ItemStatus): string {
    const open = this.open;
    if (open === null) return '';
    this.open = null;
    if (open.kind === 'message') {
      const item = messageItem(open.id, open.parts, status);
      this.output[open.index] = item;
      return this.closePart(open) + this.event('response.output_item.done', { output_index: open.index, item });
    }
    const where = { item_id: open.id, output_index: open.index, summary_index: 0 };
    const item = reasoningItem(open.id, open.text);
    this.output[open.index] = item;
    return (
      this.event('response.reasoning_summary_text.done', { ...where, text: open.text }) +
      this.event('response.reasoning_summary_part.done', { ...where, part: { type: 'summary_text', text: open.text } }) +
      this.event('response.output_item.done', { output_index: open.index, item })
    );
  }

  private closeCalls(status: ItemStatus): string {
    let out = '';
    for (const call of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      if (call.done) continue;
      call.done = true;
      const item = functionCallItem(call.id, { id: call.callId, name: call.name, arguments: call.arguments }, status);
      this.output[call.index] = item;
      out += this.event('response.function_call_arguments.done', { item_id: call.id, output_index: call.index, arguments: call.arguments });
      out += this.event('response.output_item.done', { output_index: call.index, item });
    }
    return out;
  }

  private messageText(type: ContentPartText['type'], text: string): string {
    let out = this.begin();
    if (this.open?.kind !== 'message') {
      out += this.closeOpen('completed');
      const index = this.output.length;
      const id = this.ids.item('msg', index);
      const item = messageItem(id, [], 'in_progress');
      this.addItem(item);
      this.open = { kind: 'message', index, id, parts: [] };
      out += this.event('response.output_item.added', { output_index: index, item });
    }
    const open = this.open;
    let part = open.parts.at(-1);
    if (part === undefined || part.type !== type) {
      out += this.closePart(open);
      const fresh: ContentPartText = { type, text: '' };
      open.parts.push(fresh);
      part = fresh;
      out += this.event('response.content_part.added', { item_id: open.id, output_index: open.index, content_index: open.parts.length - 1, part: contentPart(fresh) });
    }
    part.text += text;
    const where = { item_id: open.id, output_index: open.index, content_index: open.parts.length - 1 };
    return out + (type === 'output_text' ? this.event('response.output_text.delta', { ...where, delta: text, logprobs: [] }) : this.event('response.refusal.delta', { ...where, delta: text }));
  }

  private reasoning(text: string): string {
    let out = this.begin();
    if (this.open?.kind !== 'reasoning') {
      out += this.closeOpen('completed');
      const index = this.output.length;
      const id = this.ids.item('rs', index);
      const item = reasoningItem(id, null);
      this.addItem(item);
      this.open = { kind: 'reasoning', index, id, text: '' };
      out += this.event('response.output_item.added', { output_index: index, item });
      out += this.event('response.reasoning_summary_part.added', { item_id: id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } });
    }
    const open = this.open;
    open.text += text;
    return out + this.event('response.reasoning_summary_text.delta', { item_id: open.id, output_index: open.index, summary_index: 0, delta: text });
  }

  private toolCall(e: Extract<StreamEvent, { type: 'tool_call' }>): string {
    let out = '';
    let call = this.calls.get(e.index);
    if (call === undefined) {
      // A later piece of a call whose start never came has nothing to attach to.
      if (e.name === null) return '';
      out += this.begin() + this.closeOpen('completed');
      const index = this.output.length;
      // Call ids must be unique within a response (clients pair outputs with them; the SDKs refuse
      // duplicates): a provider's repeated or missing id is replaced by one of ours.
      const taken = e.id !== null && [...this.calls.values()].some((c) => c.callId === e.id);
      call = { index, id: this.ids.item('fc', index), callId: e.id !== null && !taken ? e.id : this.ids.call(e.index), name: e.name, arguments: '', done: false };
      this.calls.set(e.index, call);
      const item = functionCallItem(call.id, { id: call.callId, name: call.name, arguments: '' }, 'in_progress');
      this.addItem(item);
      out += this.event('response.output_item.added', { output_index: index, item });
    }
    if (call.done || !e.arguments) return out;
    call.arguments += e.arguments;
    return out + this.event('response.function_call_arguments.delta', { item_id: call.id, output_index: call.index, delta: e.arguments });
  }

  events(events: readonly StreamEvent[]): string {
    let out = '';
    for (const e of events) {
      switch (e.type) {
        case 'start':
          // Ids are fixed by the first event sent.
          if (this.begun) break;
          this.id = this.ids.response(e.id || null);
          if (e.model) this.model = e.model;
          this.createdAt = e.created;
          break;
        case 'text':
        case 'refusal':
          if (e.choice === 0 && e.text) out += this.messageText(e.type === 'text' ? 'output_text' : 'refusal', e.text);
          break;
        case 'reasoning':
          // Signatures and redacted blocks are another provider's state: nothing a client can use here.
          if (e.choice === 0 && e.text) out += this.reasoning(e.text);
          break;
        case 'tool_call':
          if (e.choice === 0) out += this.toolCall(e);
          break;
        case 'finish':
          if (e.choice === 0) this.reason = e.reason;
          break;
        case 'usage':
        case 'error':
          // Usage goes out once, at the end, as the billed figure; errors are the pipeline's to render (fail).
          break;
      }
    }
    return out;
  }

  passthrough(raw: string, _events: readonly StreamEvent[]): string {
    this.passed ??= new PassedResponse(() => this.response('in_progress'));
    return this.passed.forward(raw);
  }

  finish(usage: Usage, cutReason: 'length' | null): string {
    if (this.passed !== null) return this.passed.finish(usage, cutReason);
    const { status, incomplete_details } = writeResponseFinish(cutReason ?? this.reason ?? 'stop');
    const itemStatus: ItemStatus = status === 'completed' ? 'completed' : 'incomplete';
    const out = this.begin() + this.closeOpen(itemStatus) + this.closeCalls(itemStatus);
    const type = status === 'completed' ? 'response.completed' : status === 'incomplete' ? 'response.incomplete' : 'response.failed';
    const error = status === 'failed' ? responseError('The provider failed while answering; the answer is incomplete.') : null;
    return out + this.event(type, { response: this.response(status, { incompleteDetails: incomplete_details, error, usage }) });
  }

  fail(error: GatewayError): string {
    if (this.passed !== null) return this.passed.fail(error);
    const out = this.begin() + this.closeOpen('incomplete') + this.closeCalls('incomplete');
    return out + this.event('response.failed', { response: this.response('failed', { error: responseError(error.message) }) }) + this.event('error', { code: error.code, message: error.message, param: null });
  }
}
