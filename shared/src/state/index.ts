import { MemoryStateStore } from './memory.ts';
import type { StateStore } from './port.ts';
import { RedisStateStore } from './redis.ts';

export * from './port.ts';
export { MemoryStateStore } from './memory.ts';
export { RedisStateStore } from './redis.ts';

/** The Redis adapter when a URL is given, else the in-process one (embedded mode only). */
export function createStateStore(redisUrl: string | undefined): StateStore {
  return redisUrl ? new RedisStateStore(redisUrl) : new MemoryStateStore();
}
