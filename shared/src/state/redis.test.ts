import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestService } from '../../../test/support/services.ts';
import type { Announcement } from '../snapshot.ts';
import { USAGE_GROUP, usageStream } from './keys.ts';
import { RedisStateStore, TickBatchedRedis } from './redis.ts';

// What only the Redis adapter can go through: its pub/sub connection dropping, and its command
// connection's one write per event-loop turn. Everything else about it is the shared contract
// (contract.test.ts).

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !predicate(); i++) await sleep(5);
}

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

describe('RedisStateStore subscriptions', () => {
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

  it('counts an entry as unconsumed until it is acknowledged, even when an acknowledged one was never deleted', async () => {
    const store = new RedisStateStore(redis.url);
    try {
      const stream = usageStream(3);
      const ids: string[] = [];
      for (const n of [1, 2, 3, 4]) ids.push((await admin.xadd(stream, '*', 'e', `event-${n}`, 'd', '1'))!);
      // 1-3 delivered; 4 never delivered.
      expect((await store.readUsage('reader', 3, 0)).map((d) => d.payload)).toEqual(['event-1', 'event-2', 'event-3']);
      // A consumer of an older version acknowledged 2 and died before deleting it.
      expect(await admin.xack(stream, USAGE_GROUP, ids[1]!)).toBe(1);
      expect((await store.unconsumedUsage(100)).map((d) => d.payload)).toEqual(['event-1', 'event-3', 'event-4']);
      expect((await store.unconsumedUsage(2)).map((d) => d.payload)).toEqual(['event-1', 'event-3']);
      // Acknowledging now deletes in the same step: nothing acknowledged stays in the stream.
      await store.ackUsage([`3/${ids[0]}`, `3/${ids[2]}`]);
      expect(await admin.xrange(stream, '-', '+')).toEqual([[ids[1], ['e', 'event-2', 'd', '1']], [ids[3], ['e', 'event-4', 'd', '1']]]);
      expect((await store.unconsumedUsage(100)).map((d) => d.payload)).toEqual(['event-4']);
    } finally {
      await store.close();
    }
  });

  it('lists every pending entry when the pending list also holds more than a page of ids whose entries were deleted', async () => {
    const store = new RedisStateStore(redis.url);
    try {
      await admin.flushall();
      const stream = usageStream(5);
      const pipeline = admin.pipeline();
      for (let n = 0; n < 1_200; n++) pipeline.xadd(stream, '*', 'e', `event-${n}`, 'd', '1');
      const ids = (await pipeline.exec())!.map(([, id]) => id as string);
      // All delivered (pending); then all but every 25th deleted from the stream, never acknowledged:
      // the kept entries' range holds 1,152 pending ids of deleted entries between them.
      expect(await store.readUsage('reader', 2_000, 0)).toHaveLength(1_200);
      const deleted = ids.filter((_, n) => n % 25 !== 0);
      expect(await admin.xdel(stream, ...deleted)).toBe(1_152);
      const listed = (await store.unconsumedUsage(100)).map((d) => d.payload);
      expect(listed).toEqual(Array.from({ length: 48 }, (_, i) => `event-${i * 25}`));
    } finally {
      await store.close();
    }
  });
});

describe('TickBatchedRedis', () => {
  /** Reads of client sockets Redis has made so far, counting this INFO's own. */
  async function readsByRedis(): Promise<number> {
    const info = await admin.info('stats');
    return Number(/^total_reads_processed:(\d+)/m.exec(info)![1]);
  }

  it('sends the commands of one tick in one write, in order, and each gets its own reply', async () => {
    const connection = new TickBatchedRedis(redis.url);
    try {
      await connection.mset(Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`tick:${n}`, `value-${n}`])));
      const before = await readsByRedis();
      // 40 GETs and a MULTI (ioredis writes that in one go itself) from one tick.
      const [values, transaction] = await Promise.all([
        Promise.all(Array.from({ length: 40 }, (_, n) => connection.get(`tick:${n}`))),
        connection.multi().incr('tick:count').incr('tick:count').exec(),
      ]);
      const after = await readsByRedis();
      expect(values).toEqual(Array.from({ length: 40 }, (_, n) => `value-${n}`));
      expect(transaction).toEqual([[null, 1], [null, 2]]);
      // The batch was one read; the other is the second INFO's.
      expect(after - before).toBe(2);
      // A later tick's command is written at its own tick's end, not held for another.
      expect(await connection.get('tick:count')).toBe('2');
      expect((await readsByRedis()) - after).toBe(2);
    } finally {
      connection.disconnect();
    }
  });

  it('sends commands queued while disconnected once the connection is ready', async () => {
    const connection = new TickBatchedRedis(redis.url, { lazyConnect: true });
    try {
      const replies = Promise.all([connection.set('queued:a', '1'), connection.incr('queued:b'), connection.get('queued:a')]);
      expect(connection.status).not.toBe('ready');
      expect(await replies).toEqual(['OK', 1, '1']);
    } finally {
      connection.disconnect();
    }
  });
});
