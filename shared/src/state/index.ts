import { MemoryStateStore } from './memory.ts';
import type { StateStore } from './port.ts';
import { RedisStateStore, type RedisStoreOptions } from './redis.ts';

export * from './port.ts';
export * from './keys.ts';
export * from './errors.ts';
export * from './spend.ts';
export { fairUseWindow, windowStart } from './windows.ts';
export { MemoryStateStore } from './memory.ts';
export { parseRedisUrl, RedisStateStore, type RedisStoreOptions } from './redis.ts';
export { RemoteStateStore, StoreCallRefusedError, StorePortClosedError, type RemoteStateStoreOptions } from './remote.ts';
export { serveStateStore } from './remote-serve.ts';

/** The Redis adapter when a URL is given, else the in-process one (embedded mode only). */
export function createStateStore(redisUrl: string | undefined, options: RedisStoreOptions = {}): StateStore {
  return redisUrl ? new RedisStateStore(redisUrl, options) : new MemoryStateStore();
}
