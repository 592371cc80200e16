import type { ProviderAdapter } from '../adapter.ts';
import { describeJsonError } from '../sanitise.ts';
import { parseAnthropicCountTokens, prepareAnthropicCountTokens } from './count-tokens.ts';
import { encodeWithSource } from '../source-body.ts';
import { anthropicMessagesBody, anthropicRequest } from './request.ts';
import { parseAnthropicMessage } from './response.ts';
import { AnthropicStreamDecoder } from './stream.ts';

/**
 * Anthropic Messages (`POST /v1/messages`). Its error bodies are `{"type":"error","error":{"type",
 * "message"}}`, which the common JSON error reader understands. Clients that speak the Messages
 * format too get the provider's frames as they came (the passthrough path).
 */
export const anthropicAdapter: ProviderAdapter = {
  protocol: 'anthropic',
  nativeFormat: 'anthropic-messages',
  prepareChat(request, target) {
    const body = anthropicMessagesBody(request, target.upstreamModel);
    return anthropicRequest(target, encodeWithSource(body, 'messages', request.sourceMessages), request.stream);
  },
  parseChatResponse: parseAnthropicMessage,
  newStreamDecoder: (limits) => new AnthropicStreamDecoder(limits),
  describeError: describeJsonError,
  countTokens: { prepare: prepareAnthropicCountTokens, parse: parseAnthropicCountTokens },
};
