import { NO_LIMITS, type KeyRecord, type Limits } from '../snapshot.ts';
import { fairUseWindow, windowStart } from './windows.ts';

export type SpendPeriod = 'lifetime' | 'day' | 'week' | 'month';

/**
 * A counter of credits spent, for a credit limit: by one key, by the whole org, or by the member a
 * key belongs to, over its lifetime or the current calendar day, ISO week or month (UTC). The data
 * plane checks and fills these; the control plane seeds them from the usage records (a new limit,
 * a wiped Redis) and reconcile compares them. One definition, so the two planes name the same keys.
 */
export interface SpendCounter {
  scope: 'key' | 'org' | 'member';
  /** The key's or member's id; the org's for `org`. */
  scopeId: string;
  period: SpendPeriod;
  /** The counter's name under the org (see CounterCheck). */
  counter: string;
  /** Nanocredits as a decimal string. */
  limit: string;
  ttlSeconds: number | null;
  /** Usage from this time on (epoch ms) counts; 0 for a lifetime. */
  sinceMs: number;
}

/** The spend counters the key's record limits, at `nowMs`. */
export function spendCounters(key: KeyRecord, nowMs: number): SpendCounter[] {
  const out: SpendCounter[] = [];
  const scopes: { scope: SpendCounter['scope']; scopeId: string; name: string; limits: Limits }[] = [
    { scope: 'key', scopeId: key.id, name: `k.${key.id}`, limits: key.limits ?? NO_LIMITS },
    { scope: 'org', scopeId: key.orgId, name: 'org', limits: key.org?.limits ?? NO_LIMITS },
  ];
  for (const { scope, scopeId, name, limits } of scopes) {
    for (const period of ['lifetime', 'day', 'week', 'month'] as const) {
      const limit = limits.credit[period];
      if (limit === null) continue;
      out.push(counterFor(scope, scopeId, `${name}.spend`, period, limit, nowMs));
    }
  }
  if (key.member && key.member.monthlyAllowance !== null) {
    out.push(counterFor('member', key.member.id, `m.${key.member.id}.spend`, 'month', key.member.monthlyAllowance, nowMs));
  }
  return out;
}

function counterFor(scope: SpendCounter['scope'], scopeId: string, prefix: string, period: SpendPeriod, limit: string, nowMs: number): SpendCounter {
  if (period === 'lifetime') return { scope, scopeId, period, counter: `${prefix}.life`, limit, ttlSeconds: null, sinceMs: 0 };
  const window = fairUseWindow(period, nowMs);
  return { scope, scopeId, period, counter: `${prefix}.${period}.${window.id}`, limit, ttlSeconds: window.ttlSeconds, sinceMs: windowStart(period, nowMs) };
}
