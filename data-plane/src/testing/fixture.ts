import {
  channelCredentialAad,
  DEFAULT_TIMEOUTS,
  encodeCredential,
  encodePrice,
  generateSecret,
  sealSecret,
  providerInfo,
  type ChannelProtocol,
  type ChannelRecord,
  type KeyRecord,
  type ModelRoute,
  type OperatorTier,
  type PlanRecord,
  type Price,
  type ProviderId,
  type RouteTable,
  type StateStore,
} from '@tollgate/shared';

export const TEST_MODEL = 'gpt-test';
export const TEST_UPSTREAM_MODEL = 'gpt-test-upstream';

/** A price with every bucket set from input and output, as the catalogue's fallbacks would. */
export function price(inputPerMillion: bigint, outputPerMillion: bigint): Price {
  return { input: inputPerMillion, cachedInput: inputPerMillion, cacheWrite: inputPerMillion, output: outputPerMillion, reasoning: outputPerMillion };
}

export interface ChannelOptions {
  baseUrl: string;
  apiKey?: string;
  tier?: OperatorTier;
  provider?: ProviderId;
  /** Default: the provider's own protocol. */
  protocol?: ChannelProtocol;
  enabled?: boolean;
  timeouts?: Partial<ChannelRecord['timeouts']>;
  retries?: number;
  maxConcurrency?: number;
  modelMap?: Record<string, string>;
  extraHeaders?: Record<string, string>;
  /** Default true: the fakes these tests point channels at listen on 127.0.0.1. */
  allowPrivateNetwork?: boolean;
}

/** An operator channel record as the control plane publishes it, its key sealed for `masterKey`. */
export function channelRecord(masterKey: Buffer, id: string, o: ChannelOptions): ChannelRecord {
  return {
    id,
    name: `${id}-internal-name`,
    provider: o.provider ?? 'openai',
    protocol: o.protocol ?? providerInfo(o.provider ?? 'openai').protocol,
    baseUrl: o.baseUrl,
    tier: o.tier ?? 'resale',
    credentialSealed: sealSecret(masterKey, encodeCredential({ kind: 'api_key', apiKey: o.apiKey ?? `sk-test-${id}` }), channelCredentialAad(id)),
    enabled: o.enabled ?? true,
    timeouts: { ...DEFAULT_TIMEOUTS, ...o.timeouts },
    retries: o.retries ?? 0,
    modelMap: o.modelMap ?? {},
    extraHeaders: o.extraHeaders ?? {},
    maxConcurrency: o.maxConcurrency ?? 1024,
    allowPrivateNetwork: o.allowPrivateNetwork ?? true,
  };
}

export interface TargetOptions {
  channelId: string;
  upstreamModel?: string;
  priority?: number;
  weight?: number;
  cost?: Price;
}

export function modelRoute(name: string, o: { prices: Partial<Record<OperatorTier, Price>>; targets: TargetOptions[]; byok?: ModelRoute['byok']; maxOutputTokens?: number }): ModelRoute {
  const prices: ModelRoute['prices'] = {};
  for (const [tier, p] of Object.entries(o.prices) as [OperatorTier, Price][]) prices[tier] = encodePrice(p);
  return {
    name,
    prices,
    maxOutputTokens: o.maxOutputTokens ?? 4096,
    targets: o.targets.map((t) => ({
      channelId: t.channelId,
      upstreamModel: t.upstreamModel ?? TEST_UPSTREAM_MODEL,
      priority: t.priority ?? 0,
      weight: t.weight ?? 1,
      cost: encodePrice(t.cost ?? price(0n, 0n)),
    })),
    byok: o.byok ?? [],
    createdAt: Date.UTC(2026, 0, 1),
  };
}

let tableVersion = 0;

/** A route table with a fresh version (later than any published before in this process). */
export function routeTable(parts: { channels: ChannelRecord[]; models: ModelRoute[]; plans?: PlanRecord[]; byokFeeBps?: number }): RouteTable {
  return {
    v: 2,
    version: Date.now() * 1000 + (++tableVersion % 1000),
    channels: Object.fromEntries(parts.channels.map((c) => [c.id, c])),
    models: Object.fromEntries(parts.models.map((m) => [m.name, m])),
    plans: Object.fromEntries((parts.plans ?? []).map((p) => [p.id, p])),
    byokFeeBps: parts.byokFeeBps ?? 500,
  };
}

/** Publishes a route table with one resale channel to `upstreamUrl` serving TEST_MODEL at `sell`. */
export async function publishTestRoutes(
  store: StateStore,
  masterKey: Buffer,
  upstreamUrl: string,
  channelKey: string,
  sell: Price,
  channel: Partial<ChannelOptions> = {},
  maxOutputTokens = 4096,
): Promise<void> {
  await store.putRouteTable(
    routeTable({
      channels: [channelRecord(masterKey, 'ch1', { ...channel, baseUrl: upstreamUrl, apiKey: channelKey })],
      models: [modelRoute(TEST_MODEL, { prices: { resale: sell }, targets: [{ channelId: 'ch1' }], maxOutputTokens })],
    }),
  );
}

let customers = 0;

/** A fresh org with its own active key and balance, so tests never share money. */
export async function createCustomer(store: StateStore, balance: bigint, record: Partial<KeyRecord> = {}) {
  const n = ++customers;
  const orgId = `org-${process.pid}-${n}`;
  const keyId = `key-${process.pid}-${n}`;
  const key = generateSecret('api_key');
  await store.putKeyRecord(key.hash, { v: 2, id: keyId, orgId, defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: null, planId: null, ...record });
  await store.seedBalance(orgId, balance);
  // As the control plane does once everything is published: unknown keys are then unknown.
  await store.setEpoch('test-epoch');
  return { orgId, keyId, key };
}
