import { fairUseWindow, GatewayError, isStoreUnavailable, totalInput, totalOutput, type CounterCheck, type CounterConsumption, type KeyRecord, type Nanocredits, type StateStore, type Usage, type UsageEvent } from '@tollgate/shared';
import type { Resolution, RoutePlan } from '../routing/resolve.ts';
import { limitChecks, limitError, overdraftOf } from './limits.ts';
import type { StoreOutage } from './outage.ts';

const FAIR_USE_CHECK = 'fair_use';

export interface AdmissionInput {
  /** Store outages: where a store that cannot be reached leads (503, or a local grace admission). */
  outage: StoreOutage;
  /** Settlements still waiting for the store: past a bound, no local admission. */
  buffered: number;
  maxBuffered: number;
  key: KeyRecord;
  requestId: string;
  /** This data plane's instance id (its lease). */
  instance: string;
  /** The event to settle if this instance dies, for the lane admitted and its hold. */
  orphan(lane: RoutePlan, hold: Nanocredits): UsageEvent;
  /**
   * Settles, at no cost, a reservation whose answer never came (a timeout): the store may still
   * run it later (the command was sent), and only a settlement after it releases its hold.
   */
  abandon(lane: RoutePlan, hold: Nanocredits): void;
  resolution: Resolution;
  /** Input tokens the request counts against tokens-per-minute limits until it settles. */
  inputEstimate: number;
  /** The hold for a lane (the worst case of every candidate it may reach) and the output it covers. */
  price(lane: RoutePlan): { hold: Nanocredits; outputBudget: number };
  nowMs: number;
  deadlineMs: number;
}

export interface Admitted {
  plan: RoutePlan;
  hold: Nanocredits;
  /** Output tokens the hold covers: past them, a stream is cut. */
  outputBudget: number;
  /** What the settlement adds to counters, given the final usage and cost. */
  consumption(usage: Usage, cost: Nanocredits): CounterConsumption[];
  /** Premium tokens left in the plan's window, for `x-tollgate-fair-use-remaining`. */
  fairUseRemaining: number | null;
  /** Admitted on the local grace allowance while the store was unreachable. */
  local: boolean;
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
    const { hold, outputBudget: budget } = input.price(lane);
    const limits = limitChecks(input.key, input.nowMs, hold, input.inputEstimate);
    const checks: CounterCheck[] = [...limits.checks];
    if (plan?.concurrency != null) {
      checks.push({ name: 'concurrency_limit', counter: 'plan:concurrency', add: 1, limit: plan.concurrency, ttlSeconds: null, release: true });
    }
    if (withFairUse && plan && fairCounter && window) {
      checks.push({ name: FAIR_USE_CHECK, counter: fairCounter, add: 0, limit: plan.premiumAllowanceTokens, ttlSeconds: window.ttlSeconds, release: false });
    }
    let outcome;
    try {
      outcome = await store.reserve({
      orgId: input.key.orgId,
      requestId: input.requestId,
      instance: input.instance,
      orphan: input.orphan(lane, hold),
      amount: hold,
      overdraft: overdraftOf(input.key),
      checks,
      nowMs: input.nowMs,
      deadlineMs: input.deadlineMs,
      });
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      input.outage.down(input.nowMs);
      // The key came from the process cache (a key lookup would have failed first): it may ride
      // out the outage on a small local allowance; its settlement waits for the store.
      if (input.buffered < input.maxBuffered && input.outage.tryLocal(input.key.orgId, hold, input.nowMs)) {
        return { outcome: { ok: true as const, available: 0n, counters: {}, local: true }, hold, budget, limits };
      }
      input.abandon(lane, hold);
      throw new GatewayError('unavailable', "The gateway's state store is unreachable; retry shortly.").withRetryAfter(2);
    }
    if (outcome.ok) input.outage.up(input.key.orgId, outcome.available);
    return { outcome: outcome.ok ? { ok: true as const, available: outcome.available, counters: outcome.counters, local: false } : outcome, hold, budget, limits };
  };

  let lane = resolution.primary;
  let premium = lane.lane === 'premium';
  let exhausted = false;
  let { outcome, hold, budget, limits } = await tryLane(lane, premium);
  if (!outcome.ok && outcome.reason === 'check_failed' && outcome.check === FAIR_USE_CHECK) {
    if (!resolution.continuation) {
      throw new GatewayError('plan_limit', "This plan's premium allowance for the current window is used up; use auto:economy or wait for the next window.");
    }
    lane = resolution.continuation;
    premium = false;
    exhausted = true;
    ({ outcome, hold, budget, limits } = await tryLane(lane, false));
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
        throw limitError(outcome.check, input.nowMs);
    }
  }
  const counters = outcome.ok ? outcome.counters : {};
  const fairUseRemaining = exhausted ? 0 : premium && plan && fairCounter ? Math.max(0, plan.premiumAllowanceTokens - (counters[fairCounter] ?? 0)) : null;
  return {
    plan: lane,
    hold,
    outputBudget: budget,
    fairUseRemaining,
    local: outcome.ok && outcome.local,
    consumption: consumptionOf(limits.consumption, premium && fairCounter && window ? { counter: fairCounter, ttlSeconds: window.ttlSeconds } : null),
  };
}

/**
 * Built outside `admit`, so the closure a request keeps until it settles holds these two values, not
 * the admission's whole scope (its input and the closures that reach back into the request).
 */
function consumptionOf(
  limits: (usage: Usage, cost: Nanocredits) => CounterConsumption[],
  fairUse: { counter: string; ttlSeconds: number } | null,
): Admitted['consumption'] {
  return (usage, cost) => {
    const fair = fairUse ? [{ counter: fairUse.counter, amount: totalInput(usage) + totalOutput(usage), ttlSeconds: fairUse.ttlSeconds }] : [];
    return [...limits(usage, cost), ...fair];
  };
}
