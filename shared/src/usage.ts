import { MAX_TOKEN_COUNT, USAGE_FIELDS, type Usage } from './canonical/usage.ts';
import type { Lane, Tier } from './snapshot.ts';

/**
 * One event per finished request, appended by the data plane to the usage stream and turned by
 * the control plane into a usage record and a ledger entry, idempotent on `requestId`.
 */
export type UsageSource = 'reported' | 'estimated';
/**
 * `orphaned`: the data plane serving the request died before settling it; another one settled it
 * at the input estimate from the intent written at admission.
 */
export type UsageStatus = 'ok' | 'upstream_error' | 'client_aborted' | 'cut_at_hold' | 'orphaned';

/** What an event debits: the sell price of the usage, or for byok the BYOK fee. */
export type ChargeKind = 'usage' | 'byok_fee';

/** One upstream call made for a request, kept so operators can see why a request failed or fell back. */
export interface AttemptRecord {
  /** The operator channel, or null for a byok credential. */
  channelId: string | null;
  provider: string;
  upstreamModel: string;
  outcome: 'ok' | 'failed';
  /** The upstream's HTTP status, when it answered. */
  status: number | null;
  /** Failure class (connect, reset, timeout, status, bad_response, stream_error, too_large, saturated). */
  errorClass: string | null;
  /** Sanitised: no secret, no body echo. */
  message: string | null;
  latencyMs: number;
}

/** At most this many attempts are recorded per request. */
export const MAX_RECORDED_ATTEMPTS = 8;

export interface UsageEvent {
  v: 2;
  /** Ours, unique: the idempotency key of the settlement and the usage record. */
  requestId: string;
  /** The client's own `x-request-id`, when it sent a well-formed one: echoed back, kept for correlation. */
  clientRequestId: string | null;
  orgId: string;
  keyId: string;
  /** Public model name without tier prefix (for auto: the lane's model). */
  model: string;
  tier: Tier;
  lane: Lane | null;
  /** The provider and target that served the request (the last attempt), if any was called. */
  provider: string | null;
  channelId: string | null;
  byokCredentialId: string | null;
  upstreamModel: string | null;
  endpoint: string;
  stream: boolean;
  usage: Usage;
  usageSource: UsageSource;
  chargeKind: ChargeKind;
  /** Nanocredits debited, decimal string; never more than `hold`. */
  cost: string;
  /** Nanocredits the operator pays the provider for this usage (0 for byok), for margins. */
  providerCost: string;
  /** Nanocredits held at admission. */
  hold: string;
  /** The usage priced above the hold: billed at the hold and flagged for the operator. */
  overHold: boolean;
  attempts: AttemptRecord[];
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  latencyMs: number;
  status: UsageStatus;
  /** HTTP status the client received. */
  httpStatus: number;
  /** Our error code when the request failed. */
  errorCode: string | null;
}

export function encodeUsageEvent(event: UsageEvent): string {
  return JSON.stringify(event);
}

export class UsageEventFormatError extends Error {
  override name = 'UsageEventFormatError';
}

const NANOS = /^\d{1,19}$/;

/** Decodes an event from the stream; anything malformed is refused whole, never half-read. */
export function decodeUsageEvent(text: string): UsageEvent {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageEventFormatError('usage event is not JSON');
  }
  const usage = value.usage as Record<string, unknown> | undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== 2 ||
    typeof value.requestId !== 'string' ||
    typeof value.orgId !== 'string' ||
    typeof value.keyId !== 'string' ||
    typeof value.model !== 'string' ||
    typeof value.cost !== 'string' ||
    !NANOS.test(value.cost) ||
    typeof value.providerCost !== 'string' ||
    !NANOS.test(value.providerCost) ||
    typeof value.hold !== 'string' ||
    !NANOS.test(value.hold) ||
    typeof usage !== 'object' ||
    usage === null ||
    !USAGE_FIELDS.every((f) => Number.isSafeInteger(usage[f]) && (usage[f] as number) >= 0 && (usage[f] as number) <= MAX_TOKEN_COUNT) ||
    !Array.isArray(value.attempts)
  ) {
    throw new UsageEventFormatError('unsupported usage event');
  }
  return value as unknown as UsageEvent;
}
