import type { ChatRequest, ChatResponse } from '@tollgate/shared';
import type { IngressCodec } from '../codecs/codec.ts';
import { chatExchange } from '../dispatch/exchange.ts';
import { countInputTokens, estimateInputTokens } from '../metering/estimate.ts';
import type { Operation } from './operation.ts';

/** A chat in any client format (OpenAI Chat Completions, Anthropic Messages, Responses). */
export function chatOperation(name: string, codec: IngressCodec<ChatRequest, ChatResponse>): Operation<ChatRequest, ChatResponse> {
  return {
    name,
    codec,
    shape: (r) => ({ model: r.model, stream: r.stream, includeUsage: r.includeUsage, maxOutputTokens: r.maxOutputTokens, n: r.n, producesOutput: true }),
    estimateInput: estimateInputTokens,
    countInput: countInputTokens,
    promptTexts: (r) => r.messages.flatMap((m) => [m.role, ...m.content.flatMap((p) => (p.type === 'text' ? [p.text] : []))]),
    exchange: (r) => chatExchange(r, codec.format),
    meterWhole: (meter, response) => meter.observeResponse(response),
  };
}
