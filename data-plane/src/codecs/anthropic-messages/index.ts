import type { IngressCodec } from '../codec.ts';
import { parseAnthropicMessages } from './parse.ts';
import { renderAnthropicError, renderAnthropicResponse } from './render.ts';
import { AnthropicStreamRenderer } from './stream.ts';

/** Anthropic Messages (`POST /v1/messages`), as every Anthropic SDK speaks it, served by any provider. */
export const anthropicMessagesCodec: IngressCodec = {
  format: 'anthropic-messages',
  parse: parseAnthropicMessages,
  renderResponse: renderAnthropicResponse,
  newStreamRenderer: (ctx) => new AnthropicStreamRenderer(ctx),
  renderError: renderAnthropicError,
  streamHeaders: [
    ['content-type', 'text/event-stream; charset=utf-8'],
    ['cache-control', 'no-cache'],
  ],
};
