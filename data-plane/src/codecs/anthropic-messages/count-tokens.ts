import type { ChatRequest, TokenCount } from '@tollgate/shared';
import type { IngressCodec } from '../codec.ts';
import { parseAnthropicCountTokens } from './parse.ts';
import { renderAnthropicError } from './render.ts';

/** Anthropic's `POST /v1/messages/count_tokens`: a Messages body in, `{"input_tokens": N}` out. */
export const anthropicCountTokensCodec: IngressCodec<ChatRequest, TokenCount> = {
  format: 'anthropic-count-tokens',
  parse: parseAnthropicCountTokens,
  renderResponse: (count) => JSON.stringify({ input_tokens: count.inputTokens }),
  renderError: renderAnthropicError,
  streamHeaders: [],
};
