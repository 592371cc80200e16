import { costOf, feeOf, usage as usageOf, type Nanocredits, type Price, type Usage } from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';
import type { RoutePlan } from '../routing/resolve.ts';

/** What a usage vector costs the customer on a candidate: its sell price, or the BYOK fee. */
export function chargeOf(candidate: Candidate, usage: Usage): Nanocredits {
  const full = costOf(usage, candidate.chargePrice);
  return candidate.feeBps === null ? full : feeOf(full, candidate.feeBps);
}

/** What the operator pays the provider for a usage vector on a candidate (0 for BYOK). */
export function providerCostOf(candidate: Candidate, usage: Usage): Nanocredits {
  return costOf(usage, candidate.providerPrice);
}

const worstPrices = new WeakMap<Price, Price>();

/**
 * The dearest rate any token of a bucket could be billed at: the worst case a hold must cover.
 * Prices are read once per route table, so this is worked out once per price object.
 */
function worstPrice(price: Price): Price {
  let worst = worstPrices.get(price);
  if (!worst) worstPrices.set(price, (worst = worstOf(price)));
  return worst;
}

function worstOf(price: Price): Price {
  const input = [price.input, price.cachedInput, price.cacheWrite].reduce((a, b) => (b > a ? b : a));
  const output = price.output > price.reasoning ? price.output : price.reasoning;
  return { input, cachedInput: input, cacheWrite: input, output, reasoning: output };
}

/**
 * The hold: the worst case of every candidate the request may reach (its lane's, and the fallback
 * lane's), for the estimated input and the full output budget, each token at its dearest rate.
 */
export function holdFor(plan: RoutePlan, inputEstimate: number, outputBudget: number): Nanocredits {
  const worst = usageOf({ input: inputEstimate, output: outputBudget });
  let hold = 0n;
  for (let p: RoutePlan | null = plan; p !== null; p = p.fallback) {
    for (const candidate of p.candidates) {
      const full = costOf(worst, worstPrice(candidate.chargePrice));
      const charge = candidate.feeBps === null ? full : feeOf(full, candidate.feeBps);
      if (charge > hold) hold = charge;
    }
  }
  return hold;
}

/** Output tokens a request may produce: the client's cap (at most the model's), times `n`. */
export function outputBudget(plan: RoutePlan, maxOutputTokens: number | null, n: number): number {
  let modelMax = plan.model.route.maxOutputTokens;
  for (let p = plan.fallback; p !== null; p = p.fallback) modelMax = Math.max(modelMax, p.model.route.maxOutputTokens);
  const cap = maxOutputTokens === null ? modelMax : Math.min(maxOutputTokens, modelMax);
  return cap * n;
}
