/**
 * Redis key names. Everything that one money script touches for an org shares the hash tag
 * `{o:<orgId>}`, so in Redis Cluster each script stays within one slot. Breaker and affinity state
 * live in their own keys, not under an org's tag.
 */
export const ANNOUNCE_CHANNEL = 'tg:announce';
export const ROUTES_KEY = 'tg:routes';
export const USAGE_STREAM = 'tg:usage';
export const USAGE_GROUP = 'tg-usage';

export const keyRecordKey = (hash: string): string => `tg:key:${hash}`;
export const breakerKey = (channelId: string): string => `tg:{br:${channelId}}`;
export const affinityKey = (key: string): string => `tg:aff:${key}`;

/** Counter names are ours, but they end up inside Lua-parsed hold records: keep them plain. */
const COUNTER_NAME = /^[A-Za-z0-9:_.-]{1,100}$/;

/** Both adapters refuse the same counter names, so embedded mode accepts nothing Redis would not. */
export function assertCounterName(name: string): void {
  if (!COUNTER_NAME.test(name)) throw new RangeError(`counter name "${name}" has characters a hold record cannot carry`);
}

export function orgKeys(orgId: string) {
  const tag = `tg:{o:${orgId}}`;
  return {
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
