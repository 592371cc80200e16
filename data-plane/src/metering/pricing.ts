import { feeOf, GatewayError, usage as usageOf, ZERO_USAGE, type Nanocredits, type Price, type Usage, type UsageSource } from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';
import type { Resolution, RoutePlan } from '../routing/resolve.ts';
import { chargeOf, holdFor, outputBudget, providerCostOf } from './charge.ts';
import type { Meter } from './meter.ts';

/** What a request is billed once it ends, before the cap at its hold. */
export interface Bill {
  usage: Usage;
  source: UsageSource;
  /** The customer's charge: the sell price, or for BYOK the fee. */
  cost: Nanocredits;
  /** What the operator pays the provider, for margins. */
  providerCost: Nanocredits;
  /** Images billed, for endpoints priced per image; null elsewhere. */
  images: number | null;
}

/**
 * How one request is priced (DESIGN.md: what differs per endpoint is a codec and a pricing rule):
 * which candidates can price it at all, the hold per lane, and the bill once answered.
 */
export interface Pricing<Res> {
  /** Drops candidates that cannot price the request; throws the 400 when the primary lane keeps none. */
  narrow(resolution: Resolution): Resolution;
  /** The worst case of a lane (and its fallback lanes), and the output tokens it covers. */
  hold(lane: RoutePlan): { hold: Nanocredits; outputBudget: number };
  /**
   * The bill for what the candidate did: `answer` is the whole answer relayed, if there was one;
   * `called` says the provider had the request (a client that left mid-call still owes for it).
   */
  bill(candidate: Candidate | null, meter: Meter, called: boolean, answer: Res | null): Promise<Bill>;
  /** What is settled if this data plane dies holding the request: the provider had it. */
  orphan(lane: RoutePlan, hold: Nanocredits): Bill;
}

/** Per item returned (images): a price per item that depends on what was asked, never on tokens. */
export interface ItemRule<Req, Res> {
  /** Items the request may return: the hold covers this many at the dearest fitting price. */
  maxItems(request: Req): number;
  /** Items an answer holds. */
  items(response: Res): number;
  /**
   * One item's price within a price: for the request as asked, or (with `response`) as the answer
   * says it was made; null when the price does not sell it.
   */
  unitPrice(price: Price, request: Req, response: Res | null): Nanocredits | null;
  /** The 400 when no target of the lane sells the request. */
  unpriced(request: Req, plan: RoutePlan): GatewayError;
}

const noBill = (source: UsageSource): Bill => ({ usage: usageOf({}), source, cost: 0n, providerCost: 0n, images: null });

/** Candidates of a plan and its fallback lanes: every one a request may reach. */
function* reachable(plan: RoutePlan): Generator<Candidate> {
  for (let p: RoutePlan | null = plan; p !== null; p = p.fallback) yield* p.candidates;
}

/** The usage vector at the candidate's token rates: chat, completions, embeddings. */
export function tokenPricing<Res>(shape: { maxOutputTokens: number | null; n: number; producesOutput: boolean }, inputEstimate: number): Pricing<Res> {
  return {
    narrow: (resolution) => resolution,
    hold(lane) {
      const budget = outputBudget(lane, shape.producesOutput ? shape.maxOutputTokens : 0, shape.n);
      return { hold: holdFor(lane, inputEstimate, budget), outputBudget: budget };
    },
    async bill(candidate, meter, called) {
      const { usage, source } = await meter.final(called);
      if (candidate === null) return { ...noBill(source), usage };
      return { usage, source, cost: chargeOf(candidate, usage), providerCost: providerCostOf(candidate, usage), images: null };
    },
    orphan(lane) {
      const candidate = lane.candidates[0] ?? null;
      const usage = usageOf({ input: inputEstimate });
      if (candidate === null) return { ...noBill('estimated'), usage };
      return { usage, source: 'estimated', cost: chargeOf(candidate, usage), providerCost: providerCostOf(candidate, usage), images: null };
    },
  };
}

/** Nothing to pay (a token count): no hold, no charge, still admitted against the key's limits. */
export function freePricing<Res>(): Pricing<Res> {
  return {
    narrow: (resolution) => resolution,
    hold: () => ({ hold: 0n, outputBudget: 0 }),
    bill: async () => noBill('reported'),
    orphan: () => noBill('estimated'),
  };
}

/**
 * Per item: the hold is the most items times the dearest fitting price of every reachable
 * candidate (after the BYOK fee); the bill is the items returned, never more than asked for.
 */
export function itemPricing<Req, Res>(rule: ItemRule<Req, Res>, request: Req): Pricing<Res> {
  const max = rule.maxItems(request);
  const charge = (candidate: Candidate, items: number, response: Res | null): Bill => {
    const unit = (price: Price): Nanocredits => (response === null ? null : rule.unitPrice(price, request, response)) ?? rule.unitPrice(price, request, null) ?? 0n;
    const full = unit(candidate.chargePrice) * BigInt(items);
    return {
      usage: { ...ZERO_USAGE },
      source: response === null ? 'estimated' : 'reported',
      cost: candidate.feeBps === null ? full : feeOf(full, candidate.feeBps),
      providerCost: unit(candidate.providerPrice) * BigInt(items),
      images: items,
    };
  };
  const sells = (candidate: Candidate): boolean => rule.unitPrice(candidate.chargePrice, request, null) !== null;
  // A lane that sells none of it is passed over, its own fallback kept.
  // The same objects when every candidate sells it (the usual case): no copies per request.
  const narrowed = (plan: RoutePlan | null): RoutePlan | null => {
    if (plan === null) return null;
    const candidates = plan.candidates.every(sells) ? plan.candidates : plan.candidates.filter(sells);
    if (candidates.length === 0) return narrowed(plan.fallback);
    const fallback = narrowed(plan.fallback);
    return candidates === plan.candidates && fallback === plan.fallback ? plan : { ...plan, candidates, fallback };
  };
  return {
    narrow(resolution) {
      // The lane asked for must sell it: its fallback is for failures, not for other prices.
      if (!resolution.primary.candidates.some(sells)) throw rule.unpriced(request, resolution.primary);
      const primary = narrowed(resolution.primary)!;
      const continuation = narrowed(resolution.continuation);
      return primary === resolution.primary && continuation === resolution.continuation ? resolution : { ...resolution, primary, continuation };
    },
    hold(lane) {
      let hold = 0n;
      for (const candidate of reachable(lane)) {
        const worst = charge(candidate, max, null).cost;
        if (worst > hold) hold = worst;
      }
      return { hold, outputBudget: 0 };
    },
    async bill(candidate, _meter, called, answer) {
      if (candidate === null || !called) return noBill(answer === null ? 'estimated' : 'reported');
      // The client left while the provider worked: it makes every image whether or not we wait.
      if (answer === null) return charge(candidate, max, null);
      return charge(candidate, Math.min(max, rule.items(answer)), answer);
    },
    orphan(lane) {
      const candidate = lane.candidates[0];
      return candidate === undefined ? noBill('estimated') : charge(candidate, max, null);
    },
  };
}
