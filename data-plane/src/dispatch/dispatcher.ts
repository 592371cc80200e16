import { GatewayError, MAX_RECORDED_ATTEMPTS, type AttemptRecord, type Logger } from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';
import type { RoutePlan } from '../routing/resolve.ts';
import type { Affinity } from './affinity.ts';
import { attempt, type AttemptDeps, type AttemptSuccess } from './attempt.ts';
import type { Abort } from './abort.ts';
import { UpstreamCall } from './call.ts';
import type { Exchange } from './exchange.ts';
import type { Breakers } from './breaker.ts';
import { clientError, type AttemptFailure } from './failure.ts';
import { orderCandidates } from './order.ts';

export interface RetryPolicy {
  /** First backoff before retrying the same channel; doubles per retry. */
  baseBackoffMs: number;
  /** Longest wait before a retry; a Retry-After longer than this moves on instead of waiting. */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseBackoffMs: 100, maxBackoffMs: 2_000 };

export interface DispatchDeps extends AttemptDeps {
  breakers: Breakers;
  affinity: Affinity;
  retry: RetryPolicy;
  logger: Logger;
}

export interface Dispatched<T> {
  success: AttemptSuccess<T>;
  candidate: Candidate;
  plan: RoutePlan;
}

export type DispatchOutcome<T> =
  | { ok: true; dispatched: Dispatched<T>; attempts: AttemptRecord[] }
  | {
      ok: false;
      /** Null when the client left (or the request's deadline passed) before an answer. */
      error: ReturnType<typeof clientError> | null;
      attempts: AttemptRecord[];
      plan: RoutePlan;
      /** The client left while `lastCandidate` was being called. */
      abortedDuringCall: boolean;
      lastCandidate: Candidate | null;
    };

function record(candidate: Candidate, outcome: 'ok' | 'failed', f: AttemptFailure | null, latencyMs: number): AttemptRecord {
  return {
    channelId: candidate.channelId,
    provider: candidate.provider,
    upstreamModel: candidate.target.upstreamModel,
    outcome,
    status: f?.status ?? (outcome === 'ok' ? 200 : null),
    errorClass: f?.class ?? null,
    message: f?.message ?? null,
    latencyMs,
  };
}

function sleep(ms: number, signal: Abort): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.once('abort', done);
    function done(): void {
      clearTimeout(timer);
      signal.off('abort', done);
      resolve();
    }
  });
}

/**
 * Walks a route plan's candidates (priority groups, weighted draw, affinity first), skipping channels
 * whose breaker is open, and retries retryable failures on the same channel (its `retries`, with
 * capped backoff honouring Retry-After) and then on the next candidate. It writes nothing to the
 * client, so every retry and fallback happens before the first byte. Then the plan's fallback lane.
 */
export async function dispatch<T>(
  plan: RoutePlan,
  exchange: Exchange<T>,
  affinityKey: string | null,
  signal: Abort,
  deps: DispatchDeps,
): Promise<DispatchOutcome<T>> {
  const attempts: AttemptRecord[] = [];
  const failures: AttemptFailure[] = [];
  let current: RoutePlan | null = plan;
  let skipped = 0;
  let soonest: number | null = null;
  while (current !== null) {
    const useAffinity = affinityKey !== null && current.candidates.length > 1;
    const preferred = useAffinity ? await deps.affinity.lookup(affinityKey, Date.now()) : null;
    for (const candidate of orderCandidates(current.candidates, preferred)) {
      if (signal.aborted) break;
      const now = Date.now();
      if (!(await deps.breakers.allows(candidate.breakerId, now))) {
        skipped++;
        const wait = deps.breakers.coolingFor(candidate.breakerId, now);
        if (wait > 0) soonest = soonest === null ? wait : Math.min(soonest, wait);
        continue;
      }
      for (let retry = 0; retry <= candidate.retries; retry++) {
        if (signal.aborted) break;
        const outcome = await attempt(candidate, exchange, signal, deps);
        if (outcome.ok) {
          deps.breakers.success(candidate.breakerId, Date.now());
          if (attempts.length < MAX_RECORDED_ATTEMPTS) attempts.push(record(candidate, 'ok', null, outcome.latencyMs));
          if (useAffinity) deps.affinity.remember(affinityKey, candidate.key, Date.now());
          return { ok: true, dispatched: { success: outcome.success, candidate, plan: current }, attempts };
        }
        if (outcome.failure === null) return { ok: false, error: null, attempts, plan: current, abortedDuringCall: true, lastCandidate: candidate };
        const f = outcome.failure;
        failures.push(f);
        if (attempts.length < MAX_RECORDED_ATTEMPTS) attempts.push(record(candidate, 'failed', f, outcome.latencyMs));
        deps.logger.warn('upstream attempt failed', {
          channelId: candidate.channelId, byokCredentialId: candidate.byokCredentialId, provider: candidate.provider,
          upstreamModel: candidate.target.upstreamModel, status: f.status, errorClass: f.class, message: f.message, latencyMs: outcome.latencyMs,
        });
        if (f.countsForBreaker) await deps.breakers.failure(candidate.breakerId, Date.now());
        if (!f.retryable) return { ok: false, error: clientError(failures, skipped, null), attempts, plan: current, abortedDuringCall: false, lastCandidate: candidate };
        // A full channel or a refused address is not fixed by waiting: on to the next target.
        if (f.class === 'saturated' || f.class === 'address' || retry === candidate.retries) break;
        const backoff = Math.max(deps.retry.baseBackoffMs * 2 ** retry, f.retryAfterMs ?? 0);
        // A provider asking for a longer pause than we would wait: try elsewhere instead.
        if (backoff > deps.retry.maxBackoffMs) break;
        await sleep(backoff, signal);
      }
    }
    current = signal.aborted ? null : current.fallback;
  }
  if (signal.aborted && signal.reason === UpstreamCall.DEADLINE) {
    return { ok: false, error: new GatewayError('upstream_timeout', 'The request passed its deadline before a provider answered.'), attempts, plan, abortedDuringCall: false, lastCandidate: null };
  }
  if (signal.aborted) return { ok: false, error: null, attempts, plan, abortedDuringCall: false, lastCandidate: null };
  const error = clientError(failures, skipped, soonest === null ? null : soonest / 1000);
  return { ok: false, error, attempts, plan, abortedDuringCall: false, lastCandidate: null };
}

