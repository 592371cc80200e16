import type { ChatRequest, TokenCount } from '@tollgate/shared';
import { anthropicCountTokensCodec } from '../codecs/anthropic-messages/count-tokens.ts';
import { countTokensExchange } from '../dispatch/exchange.ts';
import { countInputTokens, estimateInputTokens } from '../metering/estimate.ts';
import type { RoutePlan } from '../routing/resolve.ts';
import type { Operation } from './operation.ts';

/** Whether any target the request may reach counts tokens itself. */
function providerCounts(plan: RoutePlan): boolean {
  for (let p: RoutePlan | null = plan; p !== null; p = p.fallback) if (p.candidates.some((c) => c.adapter.countTokens !== undefined)) return true;
  return false;
}

/** The gateway's own count: the tokenizer, and images by the provider's image-token rules. */
async function countHere(request: ChatRequest): Promise<TokenCount> {
  try {
    return { inputTokens: await countInputTokens(request) };
  } catch {
    // The tokenizer could not load: the quick estimate over-counts, never under.
    return { inputTokens: estimateInputTokens(request) };
  }
}

/**
 * `/v1/messages/count_tokens` (Anthropic SDK `messages.countTokens`): free, so nothing is held or
 * billed, but authenticated, allowlisted and rate limited like every request, and settled with a
 * zero-cost usage event. Targets that count themselves (Anthropic) are asked, the others passed
 * over; a route with none is counted here.
 */
export const countTokensOperation: Operation<ChatRequest, TokenCount> = {
  name: 'count_tokens',
  codec: anthropicCountTokensCodec,
  shape: (r) => ({ model: r.model, stream: false, includeUsage: false, maxOutputTokens: 0, n: 1, producesOutput: false }),
  estimateInput: estimateInputTokens,
  countInput: countInputTokens,
  promptTexts: (r) => r.messages.flatMap((m) => [m.role, ...m.content.flatMap((p) => (p.type === 'text' ? [p.text] : []))]),
  exchange: countTokensExchange,
  meterWhole: () => {},
  pricing: 'free',
  answerLocally: (request, plan) => (providerCounts(plan) ? null : countHere(request)),
};
