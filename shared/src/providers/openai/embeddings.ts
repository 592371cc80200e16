import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical/embeddings.ts';
import { tokenCount, usage } from '../../canonical/usage.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, field, indexField, stringField } from '../json.ts';
import { openAIRequest } from './request.ts';

/** Vectors one answer may hold; a provider sending more is not believed. */
const MAX_VECTORS = 2_048;

export function prepareOpenAIEmbeddings(request: EmbeddingRequest, target: UpstreamTarget): PreparedRequest {
  return openAIRequest(
    target,
    '/embeddings',
    {
      model: target.upstreamModel,
      input: request.input,
      encoding_format: request.encodingFormat,
      ...(request.dimensions !== null ? { dimensions: request.dimensions } : {}),
      ...(request.user !== null ? { user: request.user } : {}),
    },
    false,
  );
}

/** OpenAI's `list` of `embedding` objects; usage is input tokens only. */
export function parseOpenAIEmbeddings(body: Uint8Array): EmbeddingResponse {
  const payload = readAnswerObject(body);
  const data: EmbeddingResponse['data'] = [];
  for (const item of arrayField(payload, 'data').slice(0, MAX_VECTORS)) {
    const embedding = field(item, 'embedding');
    const vector = typeof embedding === 'string' ? embedding : Array.isArray(embedding) && embedding.every((n) => typeof n === 'number') ? (embedding as number[]) : null;
    if (vector === null) continue;
    data.push({ index: indexField(item, 'index', MAX_VECTORS) ?? data.length, embedding: vector });
  }
  const prompt = tokenCount(field(field(payload, 'usage'), 'prompt_tokens'));
  return { model: stringField(payload, 'model') ?? '', data, usage: prompt === null ? null : usage({ input: prompt }) };
}
