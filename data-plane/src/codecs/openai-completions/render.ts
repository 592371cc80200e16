import { writeFinishReason, writeOpenAIUsage, type ChatResponse, type GatewayError, type StreamEvent, type Usage } from '@tollgate/shared';
import type { RenderContext, StreamRenderer } from '../codec.ts';

/** A whole `text_completion`: each choice's text is the continuation. */
export function renderOpenAICompletion(response: ChatResponse, usage: Usage, ctx: RenderContext): string {
  return JSON.stringify({
    id: response.id || `cmpl-${ctx.requestId}`,
    object: 'text_completion',
    created: response.created,
    model: response.model || ctx.model,
    choices: response.choices.map((c) => ({ text: c.text ?? '', index: c.index, logprobs: null, finish_reason: writeFinishReason(c.finishReason) })),
    usage: writeOpenAIUsage(usage),
  });
}

const DONE = 'data: [DONE]\n\n';

/** `text_completion` stream chunks from canonical events. */
export class OpenAICompletionStreamRenderer implements StreamRenderer {
  private id: string;
  private model: string;
  private created = Math.floor(Date.now() / 1000);
  private readonly open = new Set<number>();
  private readonly finished = new Set<number>();
  private usageSent = false;

  constructor(private readonly ctx: RenderContext) {
    this.id = `cmpl-${ctx.requestId}`;
    this.model = ctx.model;
  }

  private chunk(choices: unknown[], usage?: Usage): string {
    const body: Record<string, unknown> = { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices };
    if (usage) body.usage = writeOpenAIUsage(usage);
    return `data: ${JSON.stringify(body)}\n\n`;
  }

  events(events: readonly StreamEvent[]): string {
    let out = '';
    for (const e of events) {
      if (e.type === 'start') {
        if (e.id) this.id = e.id;
        if (e.model) this.model = e.model;
        this.created = e.created;
      } else if (e.type === 'text') {
        this.open.add(e.choice);
        out += this.chunk([{ text: e.text, index: e.choice, logprobs: null, finish_reason: null }]);
      } else if (e.type === 'finish' && !this.finished.has(e.choice)) {
        this.open.add(e.choice);
        this.finished.add(e.choice);
        out += this.chunk([{ text: '', index: e.choice, logprobs: null, finish_reason: writeFinishReason(e.reason) }]);
      }
    }
    return out;
  }

  passthrough(raw: string, events: readonly StreamEvent[]): string {
    const usageOnly = events.length > 0 && events.every((e) => e.type === 'usage');
    for (const e of events) {
      if (e.type === 'text') this.open.add(e.choice);
      if (e.type === 'finish') this.finished.add(e.choice);
    }
    if (usageOnly && !this.ctx.includeUsage) return '';
    if (events.some((e) => e.type === 'usage')) this.usageSent = true;
    return `data: ${raw}\n\n`;
  }

  finish(usage: Usage, cutReason: 'length' | null): string {
    let out = '';
    for (const choice of this.open) {
      if (this.finished.has(choice)) continue;
      this.finished.add(choice);
      out += this.chunk([{ text: '', index: choice, logprobs: null, finish_reason: cutReason ?? 'stop' }]);
    }
    if (this.ctx.includeUsage && !this.usageSent) {
      this.usageSent = true;
      out += this.chunk([], usage);
    }
    return out + DONE;
  }

  fail(error: GatewayError): string {
    return `data: ${error.toBody()}\n\n${DONE}`;
  }
}
