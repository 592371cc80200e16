import { GatewayError, NO_LIMITS, spendCounters, type CounterCheck, type CounterConsumption, type KeyRecord, type Limits, type Nanocredits, type Tier, type Usage } from '@tollgate/shared';
import { AddressSet } from '../http/client-ip.ts';

/**
 * A key's permissions from its record, enforced here: the key's own limits, its org's ceilings and
 * its member's allowance. Each failing check names itself in the error code. Counters live in the
 * store under the org (one admission script checks them all); names carry their window, so a new
 * minute or day starts from zero without a reset.
 */

const MINUTE_TTL_SECONDS = 120;

/** The allowlists of a record, parsed once per record object (records are replaced, never changed). */
const addressSets = new WeakMap<Limits, AddressSet | null>();

function allowlist(limits: Limits): AddressSet | null {
  let set = addressSets.get(limits);
  if (set === undefined) {
    try {
      set = limits.ipAllowlist === null ? null : new AddressSet(limits.ipAllowlist);
    } catch {
      // An entry we cannot read allows nothing rather than everything.
      set = new AddressSet([]);
    }
    addressSets.set(limits, set);
  }
  return set;
}

function scopes(key: KeyRecord): { name: string; what: string; limits: Limits }[] {
  return [
    { name: `k.${key.id}`, what: 'API key', limits: key.limits ?? NO_LIMITS },
    { name: 'org', what: 'organisation', limits: key.org?.limits ?? NO_LIMITS },
  ];
}

/** 403 unless every scope's IP allowlist takes the client's address. */
export function checkAddress(key: KeyRecord, address: string): void {
  for (const scope of scopes(key)) {
    const set = allowlist(scope.limits);
    if (set !== null && !set.has(address)) throw new GatewayError('ip_not_allowed', `This ${scope.what} may not be used from this address.`);
  }
}

/** Whether every scope's model allowlist takes the model on the tier (exact name, `tier/name` or `tier/*`). */
export function modelAllowed(key: KeyRecord, tier: Tier, model: string): boolean {
  return scopes(key).every(({ limits }) => limits.models === null || limits.models.some((m) => m === model || m === `${tier}/${model}` || m === `${tier}/*` || m === '*'));
}

export function checkModel(key: KeyRecord, tier: Tier, model: string): void {
  if (!modelAllowed(key, tier, model)) throw new GatewayError('model_not_allowed', `This API key may not use the model "${model.slice(0, 200)}" on the ${tier} tier.`, 'model');
}

function minuteOf(nowMs: number): string {
  return String(Math.floor(nowMs / 60_000));
}

/** The overdraft the org may run to, nanocredits. */
export function overdraftOf(key: KeyRecord): Nanocredits {
  return key.org ? BigInt(key.org.overdraft) : 0n;
}

/** A hold as a counter amount: past 2^53 nanocredits it cannot be counted, and can never fit. */
function countable(hold: Nanocredits): number {
  return hold > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(hold);
}

interface Spend {
  counter: string;
  ttlSeconds: number | null;
}

/**
 * The checks one admission makes for a key's and its org's limits and the member's allowance, and
 * what its settlement adds to them (the request's real tokens and cost).
 */
export function limitChecks(key: KeyRecord, nowMs: number, hold: Nanocredits, inputEstimate: number): { checks: CounterCheck[]; consumption(usage: Usage, cost: Nanocredits): CounterConsumption[] } {
  const checks: CounterCheck[] = [];
  const tokenCounters: Spend[] = [];
  const spent: Spend[] = [];
  const minute = minuteOf(nowMs);
  for (const { name, limits } of scopes(key)) {
    if (limits.requestsPerMinute !== null) {
      checks.push({ name: 'rate_limited', counter: `${name}.rpm.${minute}`, add: 1, limit: limits.requestsPerMinute, ttlSeconds: MINUTE_TTL_SECONDS, release: false });
    }
    if (limits.tokensPerMinute !== null) {
      // The input estimate counts at once (held until settlement); the real tokens replace it then.
      const counter = `${name}.tpm.${minute}`;
      checks.push({ name: 'rate_limited', counter, add: Math.max(1, inputEstimate), limit: limits.tokensPerMinute, ttlSeconds: MINUTE_TTL_SECONDS, release: true });
      tokenCounters.push({ counter, ttlSeconds: MINUTE_TTL_SECONDS });
    }
    if (limits.concurrency !== null) {
      checks.push({ name: 'concurrency_limit', counter: `${name}.conc`, add: 1, limit: limits.concurrency, ttlSeconds: null, release: true });
    }
  }
  // Credit limits: the hold counts until settlement; the real cost replaces it then.
  for (const spend of spendCounters(key, nowMs)) {
    checks.push({ name: 'credit_limit_reached', counter: spend.counter, add: Math.max(1, countable(hold)), limit: countable(BigInt(spend.limit)), ttlSeconds: spend.ttlSeconds, release: true });
    spent.push({ counter: spend.counter, ttlSeconds: spend.ttlSeconds });
  }
  return {
    checks,
    consumption(usage, cost) {
      const tokens = usage.input + usage.cachedInput + usage.cacheWrite + usage.output + usage.reasoning;
      return [
        ...tokenCounters.map((c) => ({ counter: c.counter, amount: tokens, ttlSeconds: c.ttlSeconds })),
        ...spent.map((c) => ({ counter: c.counter, amount: countable(cost), ttlSeconds: c.ttlSeconds })),
      ];
    },
  };
}

/** Our error for a failed limit check: its name is its code. */
export function limitError(check: string, nowMs: number): GatewayError {
  switch (check) {
    case 'rate_limited':
      return new GatewayError('rate_limited', 'A rate limit of this API key or organisation was reached; retry after the current minute.').withRetryAfter(60 - Math.floor((nowMs % 60_000) / 1000));
    case 'concurrency_limit':
      return new GatewayError('concurrency_limit', 'Too many concurrent requests for this API key, organisation or plan; retry when one finishes.').withRetryAfter(1);
    case 'credit_limit_reached':
      return new GatewayError('credit_limit_reached', 'A credit limit of this API key, organisation or member was reached for the current period.');
    default:
      return new GatewayError('rate_limited', 'A limit of this key or organisation was reached.');
  }
}
