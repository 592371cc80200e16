import { formatSseEvent, ZERO_USAGE, type FinishReason, type GatewayError, type StreamEvent, type Usage } from '@tollgate/shared';
import { writeStopReason } from '@tollgate/shared/providers/anthropic/finish';
import { writeAnthropicUsage } from '@tollgate/shared/providers/anthropic/usage';
import type { RenderContext, StreamRenderer } from '../codec.ts';
import { anthropicError } from './errors.ts';

/** One Messages SSE event: its name, then its JSON (which never holds a raw line break). */
function sse(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** An event name safe for the `event:` line: lower-case letters, digits and `_`, as Anthropic's are. */
function isEventName(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

type BlockKind = 'text' | 'thinking' | 'tool';

/**
 * Messages SSE events from canonical events: `message_start`, then content blocks one at a time
 * with increasing indexes (a text block, thinking blocks closed by their signature, one tool_use
 * block per tool call with its arguments as `input_json_delta`), then at the end `message_delta`
 * (stop reason and the billed usage) and `message_stop`. message_start waits for the first content
 * so that it can carry the input counts an upstream reported before it. Only choice 0 is rendered:
 * a Messages request asks for one.
 *
 * On the passthrough path (the upstream speaks Messages too) the provider's events go out as they
 * came, except its end: the renderer tracks which blocks are open and whether message_delta went
 * out, so that a stream the gateway cuts still closes its blocks and says `max_tokens`.
 */
export class AnthropicStreamRenderer implements StreamRenderer {
  private id: string;
  private model: string;
  private started = false;
  /** Usage the upstream reported so far, for message_start. */
  private reported: Usage = ZERO_USAGE;
  private nextIndex = 0;
  private open: { kind: BlockKind; index: number } | null = null;
  /** Canonical tool-call index → content block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: FinishReason | null = null;
  /** The stop sequence the provider said ended the answer, if it named one. */
  private stopSequence: string | undefined;
  private passthroughUsed = false;
  /** Passthrough: content block indexes the provider opened and has not closed. */
  private readonly passedOpen = new Set<number>();
  private passedDelta = false;

  constructor(private readonly ctx: RenderContext) {
    this.id = `msg_${ctx.requestId}`;
    this.model = ctx.model;
  }

  private begin(): string {
    if (this.started) return '';
    this.started = true;
    const message = { id: this.id, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: writeAnthropicUsage(this.reported) };
    return sse('message_start', { type: 'message_start', message });
  }

  private close(): string {
    if (this.open === null) return '';
    const index = this.open.index;
    this.open = null;
    return sse('content_block_stop', { type: 'content_block_stop', index });
  }

  private openBlock(kind: BlockKind, block: Record<string, unknown>): { out: string; index: number } {
    const out = this.close();
    const index = this.nextIndex++;
    this.open = { kind, index };
    return { out: out + sse('content_block_start', { type: 'content_block_start', index, content_block: block }), index };
  }

  /** The open block if it is of this kind, else a new one. */
  private ensure(kind: 'text' | 'thinking'): { out: string; index: number } {
    if (this.open !== null && this.open.kind === kind) return { out: '', index: this.open.index };
    return this.openBlock(kind, kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' });
  }

  private delta(index: number, delta: Record<string, unknown>): string {
    return sse('content_block_delta', { type: 'content_block_delta', index, delta });
  }

  private reasoning(e: Extract<StreamEvent, { type: 'reasoning' }>): string {
    // Redacted thinking is whole in its start: the block closes at once.
    if (e.redacted !== undefined) return this.openBlock('thinking', { type: 'redacted_thinking', data: e.redacted }).out + this.close();
    const { out, index } = this.ensure('thinking');
    let text = out;
    if (e.text) text += this.delta(index, { type: 'thinking_delta', thinking: e.text });
    // A signature is the last thing of its thinking block.
    if (e.signature !== undefined) text += this.delta(index, { type: 'signature_delta', signature: e.signature }) + this.close();
    return text;
  }

  private toolCall(e: Extract<StreamEvent, { type: 'tool_call' }>): string {
    let out = '';
    let index = this.toolBlocks.get(e.index);
    if (index === undefined) {
      // A later piece of a call whose start never came has nothing to attach to.
      if (e.name === null) return '';
      const opened = this.openBlock('tool', { type: 'tool_use', id: e.id ?? `toolu_${this.ctx.requestId}_${e.index}`, name: e.name, input: {} });
      out = opened.out;
      index = opened.index;
      this.toolBlocks.set(e.index, index);
    }
    // A piece of a call after another block began still names its own block (Anthropic SDKs
    // accumulate by index); providers send each call's pieces together, so this is rare.
    if (e.arguments) out += this.delta(index, { type: 'input_json_delta', partial_json: e.arguments });
    return out;
  }

  events(events: readonly StreamEvent[]): string {
    let out = '';
    for (const e of events) {
      switch (e.type) {
        case 'start':
          if (e.id) this.id = e.id;
          if (e.model) this.model = e.model;
          break;
        case 'usage':
          this.reported = e.usage;
          break;
        case 'text':
        case 'refusal': {
          // Anthropic has no refusal block: a refusal is text, and its stop reason says refusal.
          if (e.choice !== 0 || !e.text) break;
          out += this.begin();
          const { out: opened, index } = this.ensure('text');
          out += opened + this.delta(index, { type: 'text_delta', text: e.text });
          break;
        }
        case 'reasoning':
          if (e.choice !== 0 || (!e.text && e.signature === undefined && e.redacted === undefined)) break;
          out += this.begin() + this.reasoning(e);
          break;
        case 'tool_call':
          if (e.choice !== 0) break;
          out += this.begin() + this.toolCall(e);
          break;
        case 'finish':
          if (e.choice !== 0) break;
          this.stopReason = e.reason;
          this.stopSequence = e.stopSequence;
          out += this.begin() + this.close();
          break;
        case 'error':
          // The pipeline renders errors (fail), with its own message.
          break;
      }
    }
    return out;
  }

  passthrough(raw: string, _events: readonly StreamEvent[]): string {
    this.passthroughUsed = true;
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      // Half an event (a cut stream) or garbage: nothing a client could read.
      return '';
    }
    const record = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : null;
    const type = record?.type;
    if (record === null || typeof type !== 'string' || !isEventName(type)) return '';
    const index = typeof record.index === 'number' ? record.index : null;
    switch (type) {
      case 'message_start':
        if (this.started) return '';
        this.started = true;
        break;
      case 'content_block_start':
        if (index !== null) this.passedOpen.add(index);
        break;
      case 'content_block_stop':
        if (index !== null) this.passedOpen.delete(index);
        break;
      case 'message_delta':
        this.passedDelta = true;
        break;
      case 'message_stop':
      case 'error':
        // The end and errors are the renderer's to write (finish, fail).
        return '';
      default:
        break;
    }
    return formatSseEvent({ type: 'data', data: raw, event: type, id: null });
  }

  finish(usage: Usage, cutReason: 'length' | null): string {
    // An answer with no content starts here: its message_start takes the input counts billed.
    if (!this.started) this.reported = { ...usage, output: 0, reasoning: 0 };
    let out = this.begin();
    const delta = (stopReason: string, stopSequence: string | null = null): string =>
      sse('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: writeAnthropicUsage(usage) });
    if (this.passthroughUsed) {
      // The provider's own message_delta went out unless the gateway cut the stream before it.
      if (cutReason !== null || !this.passedDelta) {
        for (const index of [...this.passedOpen].sort((a, b) => a - b)) out += sse('content_block_stop', { type: 'content_block_stop', index });
        this.passedOpen.clear();
        out += delta(cutReason === 'length' ? 'max_tokens' : 'end_turn');
      }
    } else {
      const reason = this.stopReason ?? 'stop';
      // A sequence belongs to a normal stop only (never to a cut the gateway made).
      const sequence = cutReason === null && reason === 'stop' ? this.stopSequence : undefined;
      out += this.close() + delta(cutReason === 'length' ? 'max_tokens' : writeStopReason(reason, sequence), sequence ?? null);
    }
    return out + sse('message_stop', { type: 'message_stop' });
  }

  fail(error: GatewayError): string {
    return sse('error', anthropicError(error));
  }
}
