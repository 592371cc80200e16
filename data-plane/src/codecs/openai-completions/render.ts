import { writeFinishReason, writeOpenAIUsage, type ChatResponse, type StreamEvent, type Usage } from '@tollgate/shared';
import type { RenderContext } from '../codec.ts';
import { OpenAIChunkRenderer } from '../openai-chunk-renderer.ts';

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

/** `text_completion` stream chunks from canonical events. */
export class OpenAICompletionStreamRenderer extends OpenAIChunkRenderer {
  constructor(ctx: RenderContext) {
    super(ctx, 'text_completion', 'cmpl');
  }

  protected closing(choice: number, finishReason: string): unknown {
    return { text: '', index: choice, logprobs: null, finish_reason: finishReason };
  }

  protected track(e: StreamEvent): void {
    if (e.type === 'text') this.open.add(e.choice);
    if (e.type === 'finish') this.finished.add(e.choice);
  }

  events(events: readonly StreamEvent[]): string {
    let out = '';
    for (const e of events) {
      if (e.type === 'start') {
        this.start(e);
      } else if (e.type === 'text') {
        this.open.add(e.choice);
        out += this.chunk([{ text: e.text, index: e.choice, logprobs: null, finish_reason: null }]);
      } else if (e.type === 'finish' && !this.finished.has(e.choice)) {
        this.open.add(e.choice);
        this.finished.add(e.choice);
        out += this.chunk([this.closing(e.choice, writeFinishReason(e.reason))]);
      }
    }
    return out;
  }
}
