import { isModelCapability, type ModelCapability } from './model-capabilities.ts';
import type { PriceRecord } from './pricing.ts';
import { isProviderId, PROTOCOLS, type ChannelProtocol, type ProviderId } from './providers/catalog.ts';

/**
 * What the control plane publishes to the state store for the data plane: key records (by key
 * hash), the route table, and BYOK credentials (per org and provider, loaded on demand). All are
 * denormalised so one lookup answers a request, versioned (`v`) so a data plane refuses a shape it
 * does not know instead of misreading it, and validated field by field on decode (no casts).
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

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

// --- validation on decode ------------------------------------------------------------------

type Fields = Record<string, unknown>;

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SnapshotFormatError(`${what} is not an object`);
  return value as Fields;
}

function str(o: Fields, name: string, what: string): string {
  const value = o[name];
  if (typeof value !== 'string') throw new SnapshotFormatError(`${what}.${name} is not a string`);
  return value;
}

function int(o: Fields, name: string, what: string, min = 0): number {
  const value = o[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new SnapshotFormatError(`${what}.${name} is not an integer >= ${min}`);
  return value;
}

function bool(o: Fields, name: string, what: string): boolean {
  const value = o[name];
  if (typeof value !== 'boolean') throw new SnapshotFormatError(`${what}.${name} is not a boolean`);
  return value;
}

function nullable<T>(o: Fields, name: string, read: (o: Fields, name: string, what: string) => T, what: string): T | null {
  return o[name] === null || o[name] === undefined ? null : read(o, name, what);
}

function tier(value: unknown, what: string): Tier {
  if (typeof value !== 'string' || !isTier(value)) throw new SnapshotFormatError(`${what} is not a tier`);
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  const o = object(value, what);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'string') throw new SnapshotFormatError(`${what}.${k} is not a string`);
    out[k] = v;
  }
  return out;
}

function priceRecord(value: unknown, what: string): PriceRecord {
  const o = object(value, what);
  const out: PriceRecord = { input: str(o, 'input', what), output: str(o, 'output', what) };
  for (const name of ['cachedInput', 'cacheWrite', 'reasoning'] as const) {
    if (o[name] !== undefined) out[name] = str(o, name, what);
  }
  // Absent from tables published before image prices existed: such a model sells no images.
  if (o.images !== undefined) {
    if (!Array.isArray(o.images)) throw new SnapshotFormatError(`${what}.images is not a list`);
    out.images = o.images.map((value, i) => {
      const iw = `${what}.images[${i}]`;
      const image = object(value, iw);
      return { size: str(image, 'size', iw), quality: str(image, 'quality', iw), price: nanos(image, 'price', iw) };
    });
  }
  return out;
}

function provider(o: Fields, what: string): ProviderId {
  const value = str(o, 'provider', what);
  if (!isProviderId(value)) throw new SnapshotFormatError(`${what}.provider "${value}" is unknown`);
  return value;
}

export function decodeKeyRecord(text: string): KeyRecord {
  const o = object(JSON.parse(text), 'key record');
  if (o.v !== 2) throw new SnapshotFormatError('unsupported key record version');
  const status = str(o, 'status', 'key');
  if (status !== 'active' && status !== 'disabled' && status !== 'revoked') throw new SnapshotFormatError('key.status is unknown');
  const allowed = o.allowedTiers;
  return {
    v: 2,
    id: str(o, 'id', 'key'),
    orgId: str(o, 'orgId', 'key'),
    defaultTier: tier(o.defaultTier, 'key.defaultTier'),
    status,
    expiresAt: nullable(o, 'expiresAt', int, 'key'),
    allowedTiers: allowed === null || allowed === undefined ? null : (Array.isArray(allowed) ? allowed : [null]).map((t) => tier(t, 'key.allowedTiers')),
    planId: nullable(o, 'planId', str, 'key'),
    ...(o.limits === undefined || o.limits === null ? {} : { limits: decodeLimits(o.limits, 'key.limits') }),
    ...(o.org === undefined || o.org === null
      ? {}
      : (() => {
          const org = object(o.org, 'key.org');
          return { org: { limits: decodeLimits(org.limits, 'key.org.limits'), overdraft: nanos(org, 'overdraft', 'key.org') } };
        })()),
    ...(o.member === undefined
      ? {}
      : { member: o.member === null ? null : (() => {
          const m = object(o.member, 'key.member');
          return { id: str(m, 'id', 'key.member'), monthlyAllowance: m.monthlyAllowance == null ? null : nanos(m, 'monthlyAllowance', 'key.member') };
        })() }),
    ...(o.metadata === undefined || o.metadata === null ? {} : { metadata: stringMap(o.metadata, 'key.metadata') }),
  };
}

const NANO_TEXT = /^\d{1,19}$/;

function nanos(o: Fields, name: string, what: string): string {
  const value = str(o, name, what);
  if (!NANO_TEXT.test(value)) throw new SnapshotFormatError(`${what}.${name} is not an amount of nanocredits`);
  return value;
}

function stringList(value: unknown, what: string): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new SnapshotFormatError(`${what} is not a list of strings`);
  return value as string[];
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new SnapshotFormatError(`${what} is not a list of strings`);
  return value as string[];
}

function decodeLimits(value: unknown, what: string): Limits {
  const o = object(value, what);
  const credit = o.credit === undefined || o.credit === null ? {} : object(o.credit, `${what}.credit`);
  const amount = (name: string): string | null => (credit[name] === undefined || credit[name] === null ? null : nanos(credit, name, `${what}.credit`));
  return {
    models: stringList(o.models, `${what}.models`),
    ipAllowlist: stringList(o.ipAllowlist, `${what}.ipAllowlist`),
    requestsPerMinute: nullable(o, 'requestsPerMinute', (f, n, w) => int(f, n, w, 1), what),
    tokensPerMinute: nullable(o, 'tokensPerMinute', (f, n, w) => int(f, n, w, 1), what),
    concurrency: nullable(o, 'concurrency', (f, n, w) => int(f, n, w, 1), what),
    credit: { lifetime: amount('lifetime'), day: amount('day'), week: amount('week'), month: amount('month') },
  };
}

function decodeChannel(value: unknown, id: string): ChannelRecord {
  const what = `channel ${id}`;
  const o = object(value, what);
  const protocol = str(o, 'protocol', what);
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new SnapshotFormatError(`${what}.protocol is unknown`);
  const channelTier = tier(o.tier, `${what}.tier`);
  if (channelTier === 'byok') throw new SnapshotFormatError(`${what} cannot be a byok channel`);
  const t = object(o.timeouts, `${what}.timeouts`);
  return {
    id: str(o, 'id', what),
    name: str(o, 'name', what),
    provider: provider(o, what),
    protocol: protocol as ChannelProtocol,
    baseUrl: str(o, 'baseUrl', what),
    tier: channelTier,
    credentialSealed: str(o, 'credentialSealed', what),
    enabled: bool(o, 'enabled', what),
    timeouts: {
      connectMs: int(t, 'connectMs', what, 1),
      firstByteMs: int(t, 'firstByteMs', what, 1),
      idleMs: int(t, 'idleMs', what, 1),
      totalMs: int(t, 'totalMs', what, 1),
    },
    retries: int(o, 'retries', what),
    modelMap: stringMap(o.modelMap, `${what}.modelMap`),
    extraHeaders: stringMap(o.extraHeaders, `${what}.extraHeaders`),
    maxConcurrency: int(o, 'maxConcurrency', what, 1),
    allowPrivateNetwork: o.allowPrivateNetwork === undefined ? false : bool(o, 'allowPrivateNetwork', what),
  };
}

function decodeModel(value: unknown, name: string): ModelRoute {
  const what = `model ${name}`;
  const o = object(value, what);
  const prices: Partial<Record<OperatorTier, PriceRecord>> = {};
  for (const [t, p] of Object.entries(object(o.prices, `${what}.prices`))) {
    const priced = tier(t, `${what}.prices`);
    if (priced === 'byok') throw new SnapshotFormatError(`${what}: byok is priced by its fee, not a price`);
    prices[priced] = priceRecord(p, `${what}.prices.${t}`);
  }
  if (!Array.isArray(o.targets) || !Array.isArray(o.byok)) throw new SnapshotFormatError(`${what}.targets and .byok must be arrays`);
  return {
    name: str(o, 'name', what),
    prices,
    maxOutputTokens: int(o, 'maxOutputTokens', what, 1),
    targets: o.targets.map((value, i) => {
      const tw = `${what}.targets[${i}]`;
      const t = object(value, tw);
      return {
        channelId: str(t, 'channelId', tw),
        upstreamModel: str(t, 'upstreamModel', tw),
        priority: int(t, 'priority', tw),
        weight: int(t, 'weight', tw),
        cost: priceRecord(t.cost, `${tw}.cost`),
      };
    }),
    byok: o.byok.map((value, i) => {
      const bw = `${what}.byok[${i}]`;
      const b = object(value, bw);
      return { provider: provider(b, bw), upstreamModel: str(b, 'upstreamModel', bw), listPrice: priceRecord(b.listPrice, `${bw}.listPrice`) };
    }),
    createdAt: int(o, 'createdAt', what),
    // Absent in tables from control planes before these fields; older tables stay decodable.
    ...(o.contextWindow === undefined ? {} : { contextWindow: nullable(o, 'contextWindow', (f, n, w) => int(f, n, w, 1), what) }),
    // A capability this data plane does not know yet (a newer control plane's) is left out, not fatal.
    ...(o.capabilities === undefined ? {} : { capabilities: strings(o.capabilities, `${what}.capabilities`).filter(isModelCapability) }),
    ...(o.aliases === undefined ? {} : { aliases: strings(o.aliases, `${what}.aliases`) }),
    ...(o.markups === undefined ? {} : { markups: markups(o.markups, `${what}.markups`) }),
    ...(o.orgMarkups === undefined
      ? {}
      : { orgMarkups: Object.fromEntries(Object.entries(object(o.orgMarkups, `${what}.orgMarkups`)).map(([org, m]) => [org, markups(m, `${what}.orgMarkups.${org}`)])) }),
  };
}

/** Basis points per operator tier. */
function markups(value: unknown, what: string): Partial<Record<OperatorTier, number>> {
  const o = object(value, what);
  const out: Partial<Record<OperatorTier, number>> = {};
  for (const t of Object.keys(o)) {
    const marked = tier(t, what);
    if (marked === 'byok') throw new SnapshotFormatError(`${what}: byok is priced by its fee, not a markup`);
    out[marked] = int(o, t, what);
  }
  return out;
}

function laneTarget(value: unknown, what: string): LaneTarget {
  const o = object(value, what);
  return { model: str(o, 'model', what), tier: tier(o.tier, `${what}.tier`) };
}

function decodePlan(value: unknown, id: string): PlanRecord {
  const what = `plan ${id}`;
  const o = object(value, what);
  const window = str(o, 'window', what);
  if (window !== 'day' && window !== 'week' && window !== 'month') throw new SnapshotFormatError(`${what}.window is unknown`);
  const lanes = object(o.lanes, `${what}.lanes`);
  return {
    id: str(o, 'id', what),
    name: str(o, 'name', what),
    window,
    premiumAllowanceTokens: int(o, 'premiumAllowanceTokens', what),
    concurrency: nullable(o, 'concurrency', (f, n, w) => int(f, n, w, 1), what),
    continuationAllowed: bool(o, 'continuationAllowed', what),
    fallbackAllowed: bool(o, 'fallbackAllowed', what),
    lanes: {
      premium: laneTarget(lanes.premium, `${what}.lanes.premium`),
      continuation: lanes.continuation == null ? null : laneTarget(lanes.continuation, `${what}.lanes.continuation`),
      fallback: lanes.fallback == null ? null : laneTarget(lanes.fallback, `${what}.lanes.fallback`),
    },
  };
}

/**
 * Decodes a route table. A malformed channel, model or plan is left out (and reported through
 * `onSkip`) rather than failing the whole table: one bad row must not take every model down.
 */
export function decodeRouteTable(text: string, onSkip: (what: string, error: SnapshotFormatError) => void = () => {}): RouteTable {
  const o = object(JSON.parse(text), 'route table');
  if (o.v !== 2) throw new SnapshotFormatError('unsupported route table version');
  const section = <T>(name: string, decode: (value: unknown, key: string) => T): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [key, value] of Object.entries(object(o[name], name))) {
      try {
        out[key] = decode(value, key);
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error;
        onSkip(`${name}.${key}`, error);
      }
    }
    return out;
  };
  return {
    v: 2,
    version: int(o, 'version', 'route table'),
    channels: section('channels', decodeChannel),
    models: section('models', decodeModel),
    plans: section('plans', decodePlan),
    byokFeeBps: int(o, 'byokFeeBps', 'route table'),
  };
}

export function decodeByokRecord(text: string): ByokRecord {
  const o = object(JSON.parse(text), 'byok record');
  if (o.v !== 1) throw new SnapshotFormatError('unsupported byok record version');
  return { v: 1, id: str(o, 'id', 'byok'), orgId: str(o, 'orgId', 'byok'), provider: provider(o, 'byok'), credentialSealed: str(o, 'credentialSealed', 'byok') };
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
    const value = JSON.parse(text) as Fields;
    if (value.kind === 'key' && typeof value.hash === 'string') return { kind: 'key', hash: value.hash };
    if (value.kind === 'routes' && typeof value.version === 'number') return { kind: 'routes', version: value.version };
    if (value.kind === 'byok' && typeof value.orgId === 'string' && typeof value.provider === 'string') return { kind: 'byok', orgId: value.orgId, provider: value.provider };
    if (value.kind === 'breaker' && typeof value.channelId === 'string') return { kind: 'breaker', channelId: value.channelId };
  } catch {
    // An announcement we cannot read is dropped; the next one or a reconnect reloads everything.
  }
  return null;
}
