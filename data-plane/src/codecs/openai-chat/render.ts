import { GatewayError, writeFinishReason as finishReason, writeOpenAIUsage as openAIUsage, type ChatResponse, type StreamEvent, type Usage } from '@tollgate/shared';
import type { RenderContext } from '../codec.ts';
import { OpenAIChunkRenderer } from '../openai-chunk-renderer.ts';

/** A whole `chat.completion`, with the usage that was billed. */
export function renderOpenAIResponse(response: ChatResponse, usage: Usage, ctx: RenderContext): string {
  return JSON.stringify({
    id: response.id || `chatcmpl-${ctx.requestId}`,
    object: 'chat.completion',
    created: response.created,
    model: response.model || ctx.model,
    choices: response.choices.map((c) => ({
      index: c.index,
      message: {
        role: 'assistant',
        content: c.text,
        refusal: c.refusal,
        // As streamed: reasoning without text (signatures, redacted blocks only) shows nothing.
        ...(c.reasoning ? { reasoning_content: c.reasoning } : {}),
        ...(c.toolCalls.length > 0
          ? { tool_calls: c.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) }
          : {}),
      },
      logprobs: null,
      finish_reason: finishReason(c.finishReason),
    })),
    usage: openAIUsage(usage),
  });
}

export function renderOpenAIError(error: GatewayError): string {
  return error.toBody();
}

/**
 * `chat.completion.chunk` events from canonical events. The first delta of each choice carries the
 * assistant role, as OpenAI's do; choices that never finished get a finish chunk at the end.
 */
export class OpenAIStreamRenderer extends OpenAIChunkRenderer {
  constructor(ctx: RenderContext) {
    super(ctx, 'chat.completion.chunk', 'chatcmpl');
  }

  protected closing(choice: number, finishReason: string): unknown {
    return { index: choice, delta: {}, logprobs: null, finish_reason: finishReason };
  }

  protected track(e: StreamEvent): void {
    if (e.type === 'start' && e.id) this.id = e.id;
    if (e.type === 'finish') this.finished.add(e.choice);
    if (e.type === 'text' || e.type === 'reasoning' || e.type === 'refusal' || e.type === 'tool_call' || e.type === 'finish') this.open.add(e.choice);
  }

  private delta(choice: number, delta: Record<string, unknown>, finish: string | null = null): string {
    if (!this.open.has(choice)) {
      this.open.add(choice);
      delta = { role: 'assistant', ...delta };
    }
    return this.chunk([{ index: choice, delta, logprobs: null, finish_reason: finish }]);
  }

  events(events: readonly StreamEvent[]): string {
    let out = '';
    for (const e of events) {
      switch (e.type) {
        case 'start':
          this.start(e);
          break;
        case 'text':
          out += this.delta(e.choice, { content: e.text });
          break;
        case 'reasoning':
          // A signature closing an Anthropic thinking block, or a redacted block, carries no text:
          // an empty reasoning_content chunk would tell the client nothing.
          if (e.text) out += this.delta(e.choice, { reasoning_content: e.text });
          break;
        case 'refusal':
          out += this.delta(e.choice, { refusal: e.text });
          break;
        case 'tool_call':
          out += this.delta(e.choice, {
            tool_calls: [
              {
                index: e.index,
                ...(e.id !== null ? { id: e.id, type: 'function' } : {}),
                function: { ...(e.name !== null ? { name: e.name } : {}), arguments: e.arguments },
              },
            ],
          });
          break;
        case 'finish':
          if (this.finished.has(e.choice)) break;
          this.finished.add(e.choice);
          out += this.delta(e.choice, {}, finishReason(e.reason));
          break;
        case 'usage':
        case 'error':
          // Usage goes out once, at the end, as the billed figure; errors are the pipeline's to render.
          break;
      }
    }
    return out;
  }
}
