import { crc32 } from 'node:zlib';

/**
 * Redis key names. Everything one money script touches for an org, its shard's usage stream
 * included, shares one hash tag `{s<shard>}`: in Redis Cluster each script stays within one slot,
 * and settling a request (release, debit, append the usage event) is one atomic script. Orgs are
 * spread over USAGE_SHARDS shards by a hash of their id; the control plane consumes every shard's
 * stream. Breaker, affinity and snapshot keys are single keys, each in its own slot.
 */
export const ANNOUNCE_CHANNEL = 'tg:announce';
export const ROUTES_KEY = 'tg:routes';
export const USAGE_GROUP = 'tg-usage';
/** Data-plane instances and the time of their last heartbeat (a sorted set). */
export const INSTANCES_KEY = 'tg:instances';
/** Written by the control plane once everything is published; gone after a Redis wipe. */
export const EPOCH_KEY = 'tg:epoch';

/**
 * How many shards the orgs' money keys and usage streams are spread over. Part of the key layout:
 * changing it moves every org to other keys (a `tollgate reconcile --repair` rebuilds them).
 */
export const USAGE_SHARDS = 32;

export function shardOf(orgId: string): number {
  return crc32(orgId) % USAGE_SHARDS;
}

export const usageStream = (shard: number): string => `tg:{s${shard}}:usage`;
export const intentsKey = (shard: number): string => `tg:{s${shard}}:intents`;
export const janitorLockKey = (instanceId: string): string => `tg:janitor:${instanceId}`;

export const keyRecordKey = (hash: string): string => `tg:key:${hash}`;
export const breakerKey = (channelId: string): string => `tg:{br:${channelId}}`;
export const affinityKey = (key: string): string => `tg:aff:${key}`;

/** Counter names are ours, but they end up inside Lua-parsed hold records: keep them plain. */
const COUNTER_NAME = /^[A-Za-z0-9:_.-]{1,100}$/;

/** Both adapters refuse the same counter names, so embedded mode accepts nothing Redis would not. */
export function assertCounterName(name: string): void {
  if (!COUNTER_NAME.test(name)) throw new RangeError(`counter name "${name}" has characters a hold record cannot carry`);
}

type OrgKeys = ReturnType<typeof buildOrgKeys>;
const orgKeyCache = new Map<string, OrgKeys>();
/** Orgs whose key names are kept (the busiest are looked up on every request, twice). */
const ORG_KEY_CACHE_SIZE = 10_000;

/** The key names of an org's money, remembered for recently seen orgs. */
export function orgKeys(orgId: string): OrgKeys {
  let keys = orgKeyCache.get(orgId);
  if (keys === undefined) {
    if (orgKeyCache.size >= ORG_KEY_CACHE_SIZE) orgKeyCache.delete(orgKeyCache.keys().next().value!);
    orgKeyCache.set(orgId, (keys = buildOrgKeys(orgId)));
  }
  return keys;
}

function buildOrgKeys(orgId: string) {
  const shard = shardOf(orgId);
  const tag = `tg:{s${shard}}:o:${orgId}`;
  return {
    shard,
    stream: usageStream(shard),
    intents: intentsKey(shard),
    balance: `${tag}:bal`,
    held: `${tag}:held`,
    holds: `${tag}:holds`,
    holdDeadlines: `${tag}:holds:dl`,
    settled: (requestId: string) => `${tag}:settled:${requestId}`,
    credited: (entryId: string) => `${tag}:credited:${entryId}`,
    counter: (name: string) => {
      assertCounterName(name);
      return `${tag}:c:${name}`;
    },
    byok: (provider: string) => `${tag}:byok:${provider}`,
  };
}
