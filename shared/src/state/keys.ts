/**
 * Redis key names. Everything that one money script touches for an org shares the hash tag
 * `{o:<orgId>}`, so in Redis Cluster each script stays within one slot.
 */
export const ANNOUNCE_CHANNEL = 'tg:announce';
export const ROUTES_KEY = 'tg:routes';
export const USAGE_STREAM = 'tg:usage';
export const USAGE_GROUP = 'tg-usage';

export const keyRecordKey = (hash: string): string => `tg:key:${hash}`;

export function orgKeys(orgId: string) {
  const tag = `tg:{o:${orgId}}`;
  return {
    balance: `${tag}:bal`,
    held: `${tag}:held`,
    holds: `${tag}:holds`,
    holdDeadlines: `${tag}:holds:dl`,
    settled: (requestId: string) => `${tag}:settled:${requestId}`,
    credited: (entryId: string) => `${tag}:credited:${entryId}`,
  };
}
