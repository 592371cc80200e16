import type { ChatResponse, CompletionRequest } from '@tollgate/shared';
import { openAICompletionsCodec } from '../codecs/openai-completions/index.ts';
import { completionsExchange } from '../dispatch/exchange.ts';
import { estimateBytesAsTokens } from '../metering/estimate.ts';
import { countTokens } from '../metering/tokenizer.ts';
import type { Operation } from './operation.ts';

/** `/v1/completions` (legacy): each prompt continued `n` times; answered as chat responses and events. */
export const completionsOperation: Operation<CompletionRequest, ChatResponse> = {
  name: 'completions',
  codec: openAICompletionsCodec,
  shape: (r) => ({ model: r.model, stream: r.stream, includeUsage: r.includeUsage, maxOutputTokens: r.maxOutputTokens, n: r.n * r.prompt.length, producesOutput: true }),
  estimateInput: (r) => r.prompt.reduce((sum, text) => sum + estimateBytesAsTokens(Buffer.byteLength(text, 'utf8')) + 1, 0),
  countInput: async (r) => {
    let tokens = 0;
    for (const text of r.prompt) tokens += await countTokens(text);
    return tokens;
  },
  promptTexts: (r) => r.prompt,
  exchange: completionsExchange,
  meterWhole: (meter, response) => meter.observeResponse(response),
};
