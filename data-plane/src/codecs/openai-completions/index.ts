import type { ChatResponse, CompletionRequest } from '@tollgate/shared';
import type { IngressCodec } from '../codec.ts';
import { parseOpenAICompletion } from './parse.ts';
import { OpenAICompletionStreamRenderer, renderOpenAICompletion } from './render.ts';

/**
 * Legacy OpenAI completions (`/v1/completions`). Its wire format is its own: passthrough only
 * from a provider's own completions endpoint (the adapter's `completions` part).
 */
export const openAICompletionsCodec: IngressCodec<CompletionRequest, ChatResponse> = {
  format: 'openai-completions',
  parse: parseOpenAICompletion,
  renderResponse: renderOpenAICompletion,
  newStreamRenderer: (ctx) => new OpenAICompletionStreamRenderer(ctx),
  renderError: (error) => error.toBody(),
  streamHeaders: [
    ['content-type', 'text/event-stream; charset=utf-8'],
    ['cache-control', 'no-cache'],
  ],
};
