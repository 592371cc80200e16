import { isModelCapability } from './model-capabilities.ts';
import type { PriceRecord } from './pricing.ts';
import { isProviderId, PROTOCOLS, type ChannelProtocol, type ProviderId } from './providers/catalog.ts';
import {
  isTier,
  type ByokRecord,
  type ChannelRecord,
  type KeyRecord,
  type LaneTarget,
  type Limits,
  type ModelRoute,
  type OperatorTier,
  type PlanRecord,
  type RouteTable,
  type Tier,
} from './snapshot.ts';

/**
 * Decoding what the store holds (snapshot.ts): every field checked for its type and bounds, so a
 * data plane refuses a record it cannot read instead of misreading it (no casts).
 */

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
