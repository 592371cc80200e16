import type { Tier } from './snapshot.ts';

/**
 * One event per finished request, appended by the data plane to the usage stream and turned by
 * the control plane into a usage record and a ledger debit, idempotent on `requestId`.
 */
export type UsageSource = 'reported' | 'estimated';
export type UsageStatus = 'ok' | 'upstream_error' | 'client_aborted';

export interface UsageEvent {
  v: 1;
  requestId: string;
  orgId: string;
  keyId: string;
  /** Public model name without tier prefix. */
  model: string;
  tier: Tier;
  channelId: string;
  upstreamModel: string;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  usageSource: UsageSource;
  /** Nanocredits debited, decimal string. */
  cost: string;
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  latencyMs: number;
  status: UsageStatus;
  /** HTTP status the client received. */
  httpStatus: number;
}

export function encodeUsageEvent(event: UsageEvent): string {
  return JSON.stringify(event);
}

export class UsageEventFormatError extends Error {
  override name = 'UsageEventFormatError';
}

export function decodeUsageEvent(text: string): UsageEvent {
  const value = JSON.parse(text) as Partial<UsageEvent>;
  if (
    value.v !== 1 ||
    typeof value.requestId !== 'string' ||
    typeof value.orgId !== 'string' ||
    typeof value.cost !== 'string' ||
    !/^\d+$/.test(value.cost)
  ) {
    throw new UsageEventFormatError('unsupported usage event');
  }
  return value as UsageEvent;
}
