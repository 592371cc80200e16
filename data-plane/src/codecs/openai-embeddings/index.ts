import { GatewayError, type EmbeddingRequest, type EmbeddingResponse } from '@tollgate/shared';
import type { IngressCodec } from '../codec.ts';
import { array, integer, invalid, oneOf, optional, string, unsupported } from '../fields.ts';
import { jsonObjectBody } from '../json-body.ts';

/** Inputs one request may embed (OpenAI's own bound). */
const MAX_INPUTS = 2_048;

/** An OpenAI embeddings body into the canonical request: texts only (token arrays are refused). */
export function parseOpenAIEmbeddings(raw: Buffer): EmbeddingRequest {
  const body = jsonObjectBody(raw);
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  if (body.input === undefined || body.input === null) throw invalid('Missing required parameter: "input".', 'input');
  if (body.stream === true) throw unsupported('Embeddings are not streamed.', 'stream');
  const input =
    typeof body.input === 'string'
      ? [body.input]
      : array(body.input, 'input', MAX_INPUTS, 1).map((item, i) => {
          if (typeof item !== 'string') throw unsupported(`"input[${i}]": token arrays are not supported; send text.`, 'input');
          return item;
        });
  if (input.some((text) => text.length === 0)) throw invalid('"input" may not hold an empty string.', 'input');
  return {
    model: string(body.model, 'model', 256),
    input,
    dimensions: optional(body.dimensions, (v) => integer(v, 'dimensions', 1, 100_000)),
    encodingFormat: optional(body.encoding_format, (v) => oneOf(v, 'encoding_format', ['float', 'base64'] as const)) ?? 'float',
    user: optional(body.user, (v) => string(v, 'user', 256)),
  };
}

/** The canonical answer as OpenAI's `list` of `embedding` objects, with the usage billed. */
export const openAIEmbeddingsCodec: IngressCodec<EmbeddingRequest, EmbeddingResponse> = {
  format: 'openai-embeddings',
  parse: parseOpenAIEmbeddings,
  renderResponse: (response, usage, ctx) =>
    JSON.stringify({
      object: 'list',
      data: response.data.map((d) => ({ object: 'embedding', index: d.index, embedding: d.embedding })),
      model: response.model || ctx.model,
      usage: { prompt_tokens: usage.input + usage.cachedInput + usage.cacheWrite, total_tokens: usage.input + usage.cachedInput + usage.cacheWrite },
    }),
  renderError: (error: GatewayError) => error.toBody(),
  streamHeaders: [],
};
