import type { IngressCodec } from '../codec.ts';
import { parseResponsesRequest } from './parse.ts';
import { renderResponsesError, renderResponsesResponse } from './render.ts';
import { ResponsesStreamRenderer } from './stream.ts';

/**
 * OpenAI Responses (`POST /v1/responses`), as OpenAI SDKs' `responses.create` speaks it, served by
 * any provider: translated to the canonical request and back, or passed through when the provider
 * speaks the Responses API too. Stateless: nothing is stored, here or at the provider.
 */
export const openAIResponsesCodec: IngressCodec = {
  format: 'openai-responses',
  parse: parseResponsesRequest,
  renderResponse: renderResponsesResponse,
  newStreamRenderer: (ctx) => new ResponsesStreamRenderer(ctx),
  renderError: renderResponsesError,
  streamHeaders: [
    ['content-type', 'text/event-stream; charset=utf-8'],
    ['cache-control', 'no-cache'],
  ],
};
