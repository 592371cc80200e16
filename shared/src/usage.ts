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
  /**
   * Images returned, for endpoints priced per image (`images`): what `cost` charges for, the token
   * vector being zero. Absent for every other endpoint and from older data planes.
   */
  images?: number;
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

/**
 * An orphan event as an admission intent carries it: positional, without the fields every orphan
 * shares, about a third of the full event's bytes (it is written for every request, and almost
 * never read). `decodeOrphan` rebuilds the full event.
 */
export function encodeOrphan(e: UsageEvent): string {
  const u = e.usage;
  return JSON.stringify([
    1, e.clientRequestId, e.orgId, e.keyId, e.model, e.tier, e.lane, e.provider, e.channelId, e.byokCredentialId, e.upstreamModel,
    e.endpoint, e.stream, u.input, u.cachedInput, u.cacheWrite, u.output, u.reasoning, e.chargeKind, e.cost, e.providerCost, e.hold, e.startedAt,
  ]);
}

/** The full orphan event of an intent (`encodeOrphan`'s, or a whole event from older data planes). */
export function decodeOrphan(requestId: string, text: string): UsageEvent {
  if (!text.startsWith('[')) return decodeUsageEvent(text);
  let a: unknown[];
  try {
    a = JSON.parse(text) as unknown[];
  } catch {
    throw new UsageEventFormatError('orphan intent is not JSON');
  }
  if (!Array.isArray(a) || a[0] !== 1 || a.length !== 23) throw new UsageEventFormatError('unsupported orphan intent');
  return decodeUsageEvent(
    JSON.stringify({
      v: 2, requestId, clientRequestId: a[1], orgId: a[2], keyId: a[3], model: a[4], tier: a[5], lane: a[6], provider: a[7], channelId: a[8],
      byokCredentialId: a[9], upstreamModel: a[10], endpoint: a[11], stream: a[12],
      usage: { input: a[13], cachedInput: a[14], cacheWrite: a[15], output: a[16], reasoning: a[17] },
      usageSource: 'estimated', chargeKind: a[18], cost: a[19], providerCost: a[20], hold: a[21], overHold: false, attempts: [], startedAt: a[22],
      latencyMs: 0, status: 'orphaned', httpStatus: 0, errorCode: 'orphaned',
    }),
  );
}

export class UsageEventFormatError extends Error {
  override name = 'UsageEventFormatError';
}

/** Nanocredits as the database stores them: a non-negative signed 64-bit integer. */
const NANOS = /^\d{1,19}$/;
const INT64_MAX = 2n ** 63n - 1n;
const TIERS_SET = new Set(['cheap', 'resale', 'byok']);
const LANES_SET = new Set(['premium', 'continuation', 'fallback']);
const SOURCES = new Set(['reported', 'estimated']);
const STATUSES = new Set(['ok', 'upstream_error', 'client_aborted', 'cut_at_hold', 'orphaned']);
const CHARGE_KINDS = new Set(['usage', 'byok_fee']);
/** Far above any request's `n`: an image count past it is not one this gateway produced. */
const MAX_IMAGES = 10_000;
/** 2100-01-01: a start time past it is not a time this gateway produced. */
const LATEST_START_MS = 4_102_444_800_000;

const nanos = (v: unknown): boolean => typeof v === 'string' && NANOS.test(v) && BigInt(v) <= INT64_MAX;
const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
const textOrNull = (v: unknown, max: number): boolean => v === null || text(v, max);
const count = (v: unknown, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function attemptOk(a: unknown): boolean {
  if (a === null || typeof a !== 'object') return false;
  const r = a as Record<string, unknown>;
  return (
    textOrNull(r.channelId, 200) &&
    text(r.provider, 100) &&
    typeof r.upstreamModel === 'string' &&
    r.upstreamModel.length <= 512 &&
    (r.outcome === 'ok' || r.outcome === 'failed') &&
    (r.status === null || count(r.status, 999)) &&
    textOrNull(r.errorClass, 100) &&
    (r.message === null || (typeof r.message === 'string' && r.message.length <= 2_000)) &&
    typeof r.latencyMs === 'number' &&
    Number.isFinite(r.latencyMs) &&
    r.latencyMs >= 0
  );
}

/**
 * Decodes an event from the stream; anything malformed is refused whole, never half-read: every
 * field is checked for its type and bounds (the database would refuse what does not fit, and an
 * event the consumer cannot write goes to the dead-letter table with the reason).
 */
export function decodeUsageEvent(text_: string): UsageEvent {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text_) as Record<string, unknown>;
  } catch {
    throw new UsageEventFormatError('usage event is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageEventFormatError('usage event is not an object');
  const usage = value.usage as Record<string, unknown> | undefined;
  const problems: string[] = [];
  const need = (ok: boolean, field: string): void => {
    if (!ok) problems.push(field);
  };
  need(value.v === 2, 'v');
  need(text(value.requestId, 200), 'requestId');
  need(value.clientRequestId === undefined || textOrNull(value.clientRequestId, 200), 'clientRequestId');
  need(text(value.orgId, 200), 'orgId');
  need(text(value.keyId, 200), 'keyId');
  need(text(value.model, 512), 'model');
  need(TIERS_SET.has(value.tier as string), 'tier');
  need(value.lane === null || LANES_SET.has(value.lane as string), 'lane');
  need(textOrNull(value.provider, 100), 'provider');
  need(textOrNull(value.channelId, 200), 'channelId');
  need(textOrNull(value.byokCredentialId, 200), 'byokCredentialId');
  need(value.upstreamModel === null || (typeof value.upstreamModel === 'string' && value.upstreamModel.length <= 512), 'upstreamModel');
  need(text(value.endpoint, 100), 'endpoint');
  need(typeof value.stream === 'boolean', 'stream');
  need(typeof usage === 'object' && usage !== null && USAGE_FIELDS.every((f) => count(usage[f], MAX_TOKEN_COUNT)), 'usage');
  need(value.images === undefined || count(value.images, MAX_IMAGES), 'images');
  need(SOURCES.has(value.usageSource as string), 'usageSource');
  need(CHARGE_KINDS.has(value.chargeKind as string), 'chargeKind');
  need(nanos(value.cost), 'cost');
  need(nanos(value.providerCost), 'providerCost');
  need(nanos(value.hold), 'hold');
  need(typeof value.overHold === 'boolean', 'overHold');
  need(Array.isArray(value.attempts) && value.attempts.length <= 64 && value.attempts.every(attemptOk), 'attempts');
  need(count(value.startedAt, LATEST_START_MS), 'startedAt');
  need(typeof value.latencyMs === 'number' && Number.isFinite(value.latencyMs) && value.latencyMs >= 0 && value.latencyMs <= 2_147_483_647, 'latencyMs');
  need(STATUSES.has(value.status as string), 'status');
  need(count(value.httpStatus, 999), 'httpStatus');
  need(textOrNull(value.errorCode, 100), 'errorCode');
  if (problems.length > 0) throw new UsageEventFormatError(`unsupported usage event: bad ${problems.join(', ')}`);
  return value as unknown as UsageEvent;
}
