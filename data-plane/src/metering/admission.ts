import { GatewayError, totalInput, totalOutput, type CounterCheck, type CounterConsumption, type KeyRecord, type Nanocredits, type StateStore, type Usage } from '@tollgate/shared';
import type { Resolution, RoutePlan } from '../routing/resolve.ts';
import { holdFor, outputBudget } from './charge.ts';
import { fairUseWindow } from './windows.ts';

const FAIR_USE_CHECK = 'fair_use';

export interface AdmissionInput {
  key: KeyRecord;
  requestId: string;
  resolution: Resolution;
  inputEstimate: number;
  maxOutputTokens: number | null;
  n: number;
  nowMs: number;
  deadlineMs: number;
}

export interface Admitted {
  plan: RoutePlan;
  hold: Nanocredits;
  /** Output tokens the hold covers: past them, a stream is cut. */
  outputBudget: number;
  /** What the settlement adds to counters, given the final usage. */
  consumption(usage: Usage): CounterConsumption[];
  /** Premium tokens left in the plan's window, for `x-tollgate-fair-use-remaining`. */
  fairUseRemaining: number | null;
}

/**
 * Admission: one reservation in the store that checks every limit and holds the worst case. For
 * `auto`, the premium lane is tried with the plan's fair-use check; when the allowance is spent, the
 * continuation lane (if the plan allows it) is admitted instead.
 */
export async function admit(store: StateStore, input: AdmissionInput): Promise<Admitted> {
  const { resolution } = input;
  const plan = resolution.plan;
  const window = plan ? fairUseWindow(plan.window, input.nowMs) : null;
  const fairCounter = window ? `fair:${window.id}` : null;

  const tryLane = async (lane: RoutePlan, withFairUse: boolean) => {
    const checks: CounterCheck[] = [];
    if (plan?.concurrency != null) {
      checks.push({ name: 'concurrency_limit', counter: 'plan:concurrency', add: 1, limit: plan.concurrency, ttlSeconds: null, release: true });
    }
    if (withFairUse && plan && fairCounter && window) {
      checks.push({ name: FAIR_USE_CHECK, counter: fairCounter, add: 0, limit: plan.premiumAllowanceTokens, ttlSeconds: window.ttlSeconds, release: false });
    }
    const budget = outputBudget(lane, input.maxOutputTokens, input.n);
    const hold = holdFor(lane, input.inputEstimate, budget);
    const outcome = await store.reserve({
      orgId: input.key.orgId,
      requestId: input.requestId,
      amount: hold,
      overdraft: 0n,
      checks,
      nowMs: input.nowMs,
      deadlineMs: input.deadlineMs,
    });
    return { outcome, hold, budget };
  };

  let lane = resolution.primary;
  let premium = lane.lane === 'premium';
  let exhausted = false;
  let { outcome, hold, budget } = await tryLane(lane, premium);
  if (!outcome.ok && outcome.reason === 'check_failed' && outcome.check === FAIR_USE_CHECK) {
    if (!resolution.continuation) {
      throw new GatewayError('plan_limit', "This plan's premium allowance for the current window is used up; use auto:economy or wait for the next window.");
    }
    lane = resolution.continuation;
    premium = false;
    exhausted = true;
    ({ outcome, hold, budget } = await tryLane(lane, false));
  }
  if (!outcome.ok) {
    switch (outcome.reason) {
      case 'insufficient_balance':
        throw new GatewayError('insufficient_balance', 'Insufficient balance for this request. Add credits to continue.');
      case 'no_balance':
        // The store holds no balance for this org yet (it is being republished): not the customer's fault.
        throw new GatewayError('unavailable', 'Balances are being loaded; retry in a few seconds.').withRetryAfter(2);
      case 'duplicate_request':
        throw new GatewayError('internal_error', 'Internal error.');
      case 'check_failed':
        if (outcome.check === 'concurrency_limit') {
          throw new GatewayError('concurrency_limit', "Too many concurrent requests for this organisation's plan; retry when one finishes.").withRetryAfter(1);
        }
        throw new GatewayError('rate_limited', 'A limit of this key or organisation was reached.');
    }
  }
  const counters = outcome.ok ? outcome.counters : {};
  const fairUseRemaining = exhausted ? 0 : premium && plan && fairCounter ? Math.max(0, plan.premiumAllowanceTokens - (counters[fairCounter] ?? 0)) : null;
  return {
    plan: lane,
    hold,
    outputBudget: budget,
    fairUseRemaining,
    consumption(usage) {
      if (!premium || !fairCounter || !window) return [];
      return [{ counter: fairCounter, amount: totalInput(usage) + totalOutput(usage), ttlSeconds: window.ttlSeconds }];
    },
  };
}
