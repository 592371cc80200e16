import type { EmbeddingRequest, EmbeddingResponse } from '@tollgate/shared';
import { openAIEmbeddingsCodec } from '../codecs/openai-embeddings/index.ts';
import { embeddingsExchange } from '../dispatch/exchange.ts';
import { estimateBytesAsTokens } from '../metering/estimate.ts';
import { countTokens } from '../metering/tokenizer.ts';
import type { Operation } from './operation.ts';

/** `/v1/embeddings`: input tokens only, no output; priced at the model's input rate. */
export const embeddingsOperation: Operation<EmbeddingRequest, EmbeddingResponse> = {
  name: 'embeddings',
  codec: openAIEmbeddingsCodec,
  shape: (r) => ({ model: r.model, stream: false, includeUsage: false, maxOutputTokens: 0, n: 1, producesOutput: false }),
  estimateInput: (r) => r.input.reduce((sum, text) => sum + estimateBytesAsTokens(Buffer.byteLength(text, 'utf8')) + 1, 0),
  countInput: async (r) => {
    let tokens = 0;
    for (const text of r.input) tokens += await countTokens(text);
    return tokens;
  },
  promptTexts: (r) => r.input.slice(0, 1),
  exchange: embeddingsExchange,
  meterWhole: (meter, response) => meter.report(response.usage),
};
