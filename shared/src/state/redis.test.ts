import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestService } from '../../../test/support/services.ts';
import type { Announcement } from '../snapshot.ts';
import { RedisStateStore } from './redis.ts';

// What only the Redis adapter can go through: its pub/sub connection dropping. Everything else
// about it is the shared contract (contract.test.ts).

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !predicate(); i++) await sleep(5);
}

describe('RedisStateStore subscriptions', () => {
  let redis: TestService;
  let admin: Redis;

  beforeAll(async () => {
    redis = await createTestRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    await admin.quit();
    await redis.cleanup();
  });

  it('tells every listener to resync after the subscriber connection drops, then delivers again', async () => {
    const store = new RedisStateStore(redis.url);
    try {
      const listeners = [0, 1].map(() => ({ seen: [] as Announcement[], resyncs: 0 }));
      for (const l of listeners) {
        await store.subscribe({ onAnnouncement: (a) => l.seen.push(a), onResync: () => l.resyncs++ });
      }
      expect(listeners.map((l) => l.resyncs)).toEqual([0, 0]);
      expect(Number(await admin.client('KILL', 'TYPE', 'pubsub'))).toBe(1);
      await until(() => listeners.every((l) => l.resyncs > 0));
      expect(listeners.map((l) => l.resyncs)).toEqual([1, 1]);
      await store.putKeyRecord('after-reconnect', null);
      await until(() => listeners.every((l) => l.seen.length > 0));
      expect(listeners.map((l) => l.seen)).toEqual([[{ kind: 'key', hash: 'after-reconnect' }], [{ kind: 'key', hash: 'after-reconnect' }]]);
    } finally {
      await store.close();
    }
  });

  it('asks for a resync when an announcement cannot be read', async () => {
    const store = new RedisStateStore(redis.url);
    try {
      let resyncs = 0;
      const seen: Announcement[] = [];
      await store.subscribe({ onAnnouncement: (a) => seen.push(a), onResync: () => resyncs++ });
      await admin.publish('tg:announce', '{"kind":"key","hash":5}');
      await admin.publish('tg:announce', 'not json');
      await store.putKeyRecord('h', null);
      await until(() => seen.length > 0);
      expect(seen).toEqual([{ kind: 'key', hash: 'h' }]);
      expect(resyncs).toBe(2);
    } finally {
      await store.close();
    }
  });
});
