import type { ModelCapability } from './model-capabilities.ts';
import type { PriceRecord } from './pricing.ts';
import type { ChannelProtocol, ProviderId } from './providers/catalog.ts';

/**
 * What the control plane publishes to the state store for the data plane: key records (by key
 * hash), the route table, and BYOK credentials (per org and provider, loaded on demand). All are
 * denormalised so one lookup answers a request, versioned (`v`) so a data plane refuses a shape it
 * does not know instead of misreading it, and validated field by field on decode (snapshot-decode.ts).
 */
export const TIERS = ['cheap', 'resale', 'byok'] as const;
export type Tier = (typeof TIERS)[number];
/** Tiers an operator channel may serve: byok requests use only the calling org's own credentials. */
export type OperatorTier = Exclude<Tier, 'byok'>;

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

export const LANES = ['premium', 'continuation', 'fallback'] as const;
export type Lane = (typeof LANES)[number];

export type KeyStatus = 'active' | 'disabled' | 'revoked';

export interface KeyRecord {
  v: 2;
  id: string;
  orgId: string;
  /** Tier used when a model string has no `tier/` prefix (the org's default). */
  defaultTier: Tier;
  status: KeyStatus;
  /** Epoch milliseconds, or null for a key that does not expire. */
  expiresAt: number | null;
  /** Tiers this key may use: the key's restriction intersected with its org's; null means all. */
  allowedTiers: Tier[] | null;
  /** The org's plan (auto lanes, fair use, concurrency), an id into RouteTable.plans. */
  planId: string | null;
  /** The key's own limits (absent or null fields: no limit). */
  limits?: Limits;
  /** The org's: ceilings over all its keys, and how far below zero its balance may go. */
  org?: { limits: Limits; overdraft: string };
  /** The member the key belongs to, and their monthly allowance in nanocredits (null: none). */
  member?: { id: string; monthlyAllowance: string | null } | null;
  /** Free-form labels the owner set; echoed to nobody, kept for the operator's own use. */
  metadata?: Record<string, string>;
}

/**
 * Limits enforced by the data plane at admission, for a key or (as ceilings) for its org. Credit
 * limits are nanocredits as decimal strings, per lifetime and per calendar day, ISO week and month
 * in UTC; rates are per minute.
 */
export interface Limits {
  /** Models this may use: exact public names, or `tier/*` for every model of a tier; null: all. */
  models: string[] | null;
  /** Client addresses allowed to use it: IPv4/IPv6 addresses or CIDR ranges; null: any. */
  ipAllowlist: string[] | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrency: number | null;
  credit: { lifetime: string | null; day: string | null; week: string | null; month: string | null };
}

export const NO_LIMITS: Readonly<Limits> = Object.freeze({
  models: null, ipAllowlist: null, requestsPerMinute: null, tokensPerMinute: null, concurrency: null,
  credit: Object.freeze({ lifetime: null, day: null, week: null, month: null }),
});

export interface ChannelTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** Until the first content event (streams) or the whole response head (non-streamed). */
  firstByteMs: number;
  /** Longest silence between two chunks of a body. */
  idleMs: number;
  /** The whole call, first byte to last. */
  totalMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ChannelTimeouts> = Object.freeze({ connectMs: 10_000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 600_000 });

/** An operator's provider account. */
export interface ChannelRecord {
  id: string;
  /** The operator's internal name: for the operator's eyes only, never sent to customers. */
  name: string;
  provider: ProviderId;
  protocol: ChannelProtocol;
  /** Base URL including the version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  tier: OperatorTier;
  /** The credential sealed (crypto/envelope.ts), associated data `channelCredentialAad(id)`. */
  credentialSealed: string;
  enabled: boolean;
  timeouts: ChannelTimeouts;
  /** Extra attempts on this same channel after a retryable failure, before moving on. */
  retries: number;
  /** Upstream model name overrides: the target's upstream model -> the name this channel uses. */
  modelMap: Record<string, string>;
  /** Sent with every request to this channel (e.g. OpenRouter's HTTP-Referer). */
  extraHeaders: Record<string, string>;
  /** Concurrent requests to this channel; more are refused (no hidden queue). */
  maxConcurrency: number;
  /**
   * The channel may reach loopback, private, link-local and CGNAT addresses (the operator's own
   * network); otherwise only public ones. Never metadata addresses, never Tollgate's own listeners.
   * Absent in tables from control planes before it existed: false.
   */
  allowPrivateNetwork: boolean;
}

export interface RouteTarget {
  channelId: string;
  upstreamModel: string;
  /** Lower runs first; targets of equal priority share traffic by weight. */
  priority: number;
  weight: number;
  /** What the operator pays the provider for this target's usage. */
  cost: PriceRecord;
}

/** Where a byok request for a model goes, per provider the org may hold a credential for. */
export interface ByokTarget {
  provider: ProviderId;
  upstreamModel: string;
  /** The provider's paid list price: the BYOK fee is a share of it, even on a free-tier key. */
  listPrice: PriceRecord;
}

export interface ModelRoute {
  /** Public model name, without tier prefix. */
  name: string;
  /** What the customer pays per tier; a tier without a price is not sold. */
  prices: Partial<Record<OperatorTier, PriceRecord>>;
  /** The model's largest output per choice: the hold when a client sets no cap. */
  maxOutputTokens: number;
  targets: RouteTarget[];
  byok: ByokTarget[];
  createdAt: number;
  /** Tokens of input and output the model takes in one request; absent or null: not stated. */
  contextWindow?: number | null;
  /** What the model can do (model-capabilities.ts); absent in tables from before capabilities. */
  capabilities?: ModelCapability[];
  /**
   * Other names clients may ask for; a request for one is served, billed and recorded as this
   * model. Unique across every model's names and aliases (the control plane keeps that).
   */
  aliases?: string[];
  /**
   * Tiers sold at each target's cost times a markup, in basis points (12000 = cost × 1.2; see
   * pricing.ts `markupPrice`): such a tier is sold even without a price, and its `prices` entry is
   * left out. Absent in tables from before markups.
   */
  markups?: Partial<Record<OperatorTier, number>>;
  /** Orgs with their own markup for a tier, overriding `markups` and `prices` for them: org id -> tier -> bps. */
  orgMarkups?: Record<string, Partial<Record<OperatorTier, number>>>;
}

export interface LaneTarget {
  model: string;
  tier: Tier;
}

/** A flat-fee plan's `auto` routing and fair use (DESIGN.md, "Routing model"). */
export interface PlanRecord {
  id: string;
  name: string;
  /** The fair-use window: a calendar day, ISO week or month in UTC. */
  window: 'day' | 'week' | 'month';
  /** Premium-lane tokens (input + output) per window; past it, `auto` continues on economy. */
  premiumAllowanceTokens: number;
  /** Concurrent requests per org on this plan; null for no cap. */
  concurrency: number | null;
  /** After the allowance: continue on the continuation lane (else 402 plan_limit). */
  continuationAllowed: boolean;
  /** When a lane's own targets all failed: try the fallback lane. */
  fallbackAllowed: boolean;
  lanes: { premium: LaneTarget; continuation: LaneTarget | null; fallback: LaneTarget | null };
}

export interface RouteTable {
  v: 2;
  /** Increases with every publication; data planes ignore an older table than the one they hold. */
  version: number;
  channels: Record<string, ChannelRecord>;
  models: Record<string, ModelRoute>;
  plans: Record<string, PlanRecord>;
  /** BYOK fee in basis points of the provider's list price for the same usage (500 = 5%). */
  byokFeeBps: number;
}

/** A customer's own provider credential, one per org and provider. */
export interface ByokRecord {
  v: 1;
  id: string;
  orgId: string;
  provider: ProviderId;
  /** Sealed (crypto/envelope.ts) with associated data `byokCredentialAad(orgId, id)`. */
  credentialSealed: string;
}

export function channelCredentialAad(channelId: string): string {
  return `channel:${channelId}`;
}

export function byokCredentialAad(orgId: string, credentialId: string): string {
  return `byok:${orgId}:${credentialId}`;
}

export function encodeKeyRecord(record: KeyRecord): string {
  return JSON.stringify(record);
}

export function encodeRouteTable(table: RouteTable): string {
  return JSON.stringify(table);
}

export function encodeByokRecord(record: ByokRecord): string {
  return JSON.stringify(record);
}

/** A change the control plane (or a data plane, for breakers) announces on the pub/sub channel. */
export type Announcement =
  | { kind: 'key'; hash: string }
  | { kind: 'routes'; version: number }
  | { kind: 'byok'; orgId: string; provider: string }
  | { kind: 'breaker'; channelId: string };

export function encodeAnnouncement(a: Announcement): string {
  return JSON.stringify(a);
}

export function decodeAnnouncement(text: string): Announcement | null {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value.kind === 'key' && typeof value.hash === 'string') return { kind: 'key', hash: value.hash };
    if (value.kind === 'routes' && typeof value.version === 'number') return { kind: 'routes', version: value.version };
    if (value.kind === 'byok' && typeof value.orgId === 'string' && typeof value.provider === 'string') return { kind: 'byok', orgId: value.orgId, provider: value.provider };
    if (value.kind === 'breaker' && typeof value.channelId === 'string') return { kind: 'breaker', channelId: value.channelId };
  } catch {
    // An announcement we cannot read is dropped; the next one or a reconnect reloads everything.
  }
  return null;
}
