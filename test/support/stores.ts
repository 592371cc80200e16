import { MessageChannel } from 'node:worker_threads';
import { MemoryStateStore, RedisStateStore, RemoteStateStore, serveStateStore, type StateStore } from '@tollgate/shared';
import { startRedisCluster } from './servers.ts';
import { createTestRedis } from './services.ts';

export interface TestStore {
  store: StateStore;
  cleanup(): Promise<void>;
}

/**
 * Both state store adapters, for suites that must hold for each (`describe.each(storeAdapters)`):
 * the in-process one, and Redis on a throwaway redis-server of the suite's own.
 */
export const storeAdapters: [name: string, make: () => Promise<TestStore>][] = [
  ['memory', async () => ({ store: new MemoryStateStore(), cleanup: async () => {} })],
  [
    'redis',
    async () => {
      const redis = await createTestRedis();
      const store = new RedisStateStore(redis.url);
      return { store, cleanup: async () => (await store.close(), await redis.cleanup()) };
    },
  ],
];

/**
 * The in-process store reached through a RemoteStateStore over a MessagePort, as the control plane
 * reaches it from its worker in embedded mode (here both ends in one thread: every call and reply
 * still crosses as a structured clone).
 */
export const remoteStoreAdapter: [name: string, make: () => Promise<TestStore>] = [
  'memory over a message port',
  async () => {
    const owned = new MemoryStateStore();
    const { port1, port2 } = new MessageChannel();
    const stopServing = serveStateStore(owned, port1);
    const store = new RemoteStateStore(port2, { kind: owned.kind });
    return { store, cleanup: async () => (await store.close(), await stopServing(), await owned.close()) };
  },
];

/** A Redis Cluster of three nodes: for the contract suite, which must hold there too. */
export const clusterStoreAdapter: [name: string, make: () => Promise<TestStore>] = [
  'redis cluster',
  async () => {
    const cluster = await startRedisCluster();
    const store = new RedisStateStore(cluster.url);
    return { store, cleanup: async () => (await store.close(), await cluster.stop()) };
  },
];
