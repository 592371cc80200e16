import type { IngressCodec } from '../codec.ts';
import { parseOpenAIChat } from './parse.ts';
import { OpenAIStreamRenderer, renderOpenAIError, renderOpenAIResponse } from './render.ts';

/** OpenAI Chat Completions, as every OpenAI SDK speaks it. */
export const openAIChatCodec: IngressCodec = {
  format: 'openai-chat',
  parse: parseOpenAIChat,
  renderResponse: renderOpenAIResponse,
  newStreamRenderer: (ctx) => new OpenAIStreamRenderer(ctx),
  renderError: renderOpenAIError,
  streamHeaders: [
    ['content-type', 'text/event-stream; charset=utf-8'],
    ['cache-control', 'no-cache'],
  ],
};
