import type { ProviderAdapter } from '../adapter.ts';
import { openAIRequest } from '../openai/request.ts';
import { describeJsonError } from '../sanitise.ts';
import { responsesBody } from './request.ts';
import { parseResponsesResponse } from './response.ts';
import { ResponsesStreamDecoder } from './stream.ts';

/**
 * The OpenAI Responses API (`POST {base}/responses`) with a bearer key. Its error bodies are
 * OpenAI's `{"error": {...}}`. Clients that speak the Responses API too get the provider's answer
 * as it came (the passthrough path); the request is still built from the canonical one, so
 * `store: false` and everything the codec refused hold on that path too.
 */
export const openAIResponsesAdapter: ProviderAdapter = {
  protocol: 'openai-responses',
  nativeFormat: 'openai-responses',
  prepareChat: (request, target) => openAIRequest(target, '/responses', responsesBody(request, target.upstreamModel), request.stream),
  parseChatResponse: parseResponsesResponse,
  newStreamDecoder: (limits) => new ResponsesStreamDecoder(limits),
  describeError: describeJsonError,
};
