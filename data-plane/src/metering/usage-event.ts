import type { AttemptRecord, KeyRecord, Nanocredits, Usage, UsageEvent, UsageSource, UsageStatus } from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';
import type { RoutePlan } from '../routing/resolve.ts';
import type { Bill } from './pricing.ts';

export interface UsageEventInput {
  requestId: string;
  clientRequestId: string | null;
  key: KeyRecord;
  endpoint: string;
  stream: boolean;
  plan: RoutePlan;
  /** The candidate that served (or was being called), if any. */
  candidate: Candidate | null;
  usage: Usage;
  usageSource: UsageSource;
  /** What is debited: at most the hold. */
  cost: Nanocredits;
  /** What the operator pays the provider for it (0 for BYOK). */
  providerCost: Nanocredits;
  /** Images billed, for endpoints priced per image. */
  images?: number | null;
  hold: Nanocredits;
  overHold: boolean;
  attempts: AttemptRecord[];
  startedAt: number;
  latencyMs: number;
  status: UsageStatus;
  httpStatus: number;
  errorCode: string | null;
}

/** The one usage event of a request, as the stream carries it. */
export function usageEvent(input: UsageEventInput): UsageEvent {
  const { candidate, plan } = input;
  return {
    v: 2,
    requestId: input.requestId,
    clientRequestId: input.clientRequestId,
    orgId: input.key.orgId,
    keyId: input.key.id,
    model: plan.model.route.name,
    tier: plan.tier,
    lane: plan.lane,
    provider: candidate?.provider ?? null,
    channelId: candidate?.channelId ?? null,
    byokCredentialId: candidate?.byokCredentialId ?? null,
    upstreamModel: candidate?.target.upstreamModel ?? null,
    endpoint: input.endpoint,
    stream: input.stream,
    usage: input.usage,
    // Left out of the JSON when undefined; always present, so every event has one shape (no spread).
    images: input.images ?? undefined,
    usageSource: input.usageSource,
    chargeKind: candidate?.feeBps != null ? 'byok_fee' : 'usage',
    cost: input.cost.toString(),
    providerCost: input.providerCost.toString(),
    hold: input.hold.toString(),
    overHold: input.overHold,
    attempts: input.attempts,
    startedAt: input.startedAt,
    latencyMs: input.latencyMs,
    status: input.status,
    httpStatus: input.httpStatus,
    errorCode: input.errorCode,
  };
}

/**
 * What to settle if this data plane dies before it settles the request: the upstream had (or was
 * about to have) the request, so it is billed as its pricing says (for tokens, the input at the
 * quick estimate) on the lane's first candidate, never more than the hold, marked `orphaned`.
 */
export function orphanEvent(
  base: Omit<UsageEventInput, 'candidate' | 'usage' | 'usageSource' | 'cost' | 'providerCost' | 'images' | 'overHold' | 'attempts' | 'latencyMs' | 'status' | 'httpStatus' | 'errorCode'>,
  bill: Bill,
): UsageEvent {
  // Every field named (no spread): built for every request, as its admission intent.
  return usageEvent({
    requestId: base.requestId,
    clientRequestId: base.clientRequestId,
    key: base.key,
    endpoint: base.endpoint,
    stream: base.stream,
    plan: base.plan,
    hold: base.hold,
    startedAt: base.startedAt,
    candidate: base.plan.candidates[0] ?? null,
    usage: bill.usage,
    usageSource: 'estimated',
    cost: bill.cost > base.hold ? base.hold : bill.cost,
    providerCost: bill.providerCost,
    images: bill.images,
    overHold: false,
    attempts: [],
    latencyMs: 0,
    status: 'orphaned',
    httpStatus: 0,
    errorCode: 'orphaned',
  });
}
