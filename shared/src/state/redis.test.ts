import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestService } from '../../../test/support/services.ts';
import { ZERO_USAGE } from '../canonical/usage.ts';
import type { Announcement } from '../snapshot.ts';
import type { UsageEvent } from '../usage.ts';
import { orgKeys, USAGE_GROUP, usageStream } from './keys.ts';
import { RedisStateStore, TickBatchedRedis } from './redis.ts';

// What only the Redis adapter can go through: its pub/sub connection dropping, its command
// connection's one write per event-loop turn, and how long its markers live. Everything else about
// it is the shared contract (contract.test.ts).

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

describe('RedisStateStore markers', () => {
  const event = (orgId: string, requestId: string, cost: bigint): UsageEvent => ({
    v: 2, requestId, clientRequestId: null, orgId, keyId: 'key-1', model: 'gpt-test', tier: 'resale', lane: null, provider: 'openai',
    channelId: 'ch-1', byokCredentialId: null, upstreamModel: 'gpt-test', endpoint: '/v1/chat/completions', stream: false,
    usage: { ...ZERO_USAGE, input: 10, output: 5 }, usageSource: 'reported', chargeKind: 'usage', cost: cost.toString(), providerCost: '0',
    hold: cost.toString(), overHold: false, attempts: [], startedAt: 1_700_000_000_000, latencyMs: 12, status: 'ok', httpStatus: 200, errorCode: null,
  });
  /** Seconds left on a key, rounded up: a key set with a life of N seconds less than a second ago reads N. */
  const secondsLeft = async (key: string): Promise<number> => Math.ceil((await admin.pttl(key)) / 1000);

  it('remembers a settled request for 24 hours by default', async () => {
    const store = new RedisStateStore(redis.url);
    try {
      const org = `org-default-${process.pid}`;
      await store.seedBalance(org, 1_000n);
      expect(await store.settle({ event: event(org, 'r-default', 5n), consumption: [] })).toBe('settled');
      expect(await secondsLeft(orgKeys(org).settled('r-default'))).toBe(86_400);
    } finally {
      await store.close();
    }
  });

  it('gives every settled marker the configured life (settlement, orphan, debit once, seed), and credits their own week', async () => {
    const store = new RedisStateStore(redis.url, { settledMarkerSeconds: 7_200 });
    try {
      const org = `org-configured-${process.pid}`;
      const k = orgKeys(org);
      await store.seedBalance(org, 1_000n);
      expect(await store.settle({ event: event(org, 'r-settled', 5n), consumption: [] })).toBe('settled');
      const now = Date.now();
      const orphan = { ...event(org, 'r-orphan', 7n), status: 'orphaned' as const };
      expect(await store.reserve({ orgId: org, requestId: 'r-orphan', instance: `dp-gone-${process.pid}`, orphan, amount: 10n, overdraft: 0n, checks: [], nowMs: now, deadlineMs: now + 60_000 })).toMatchObject({ ok: true });
      expect(await store.settleOrphans(`dp-gone-${process.pid}`, 60_000)).toBe(1);
      expect(await store.debitOnce(org, 'r-debited', 11n)).toBe('applied');
      expect(await store.seedBalance(org, 0n, [{ requestId: 'r-seeded', cost: 13n }])).toBe(false);
      expect(await store.applyCredit(org, 'entry-1', 100n)).toBe('applied');
      const lives = await Promise.all(['r-settled', 'r-orphan', 'r-debited', 'r-seeded'].map((id) => secondsLeft(k.settled(id))));
      expect(lives).toEqual([7_200, 7_200, 7_200, 7_200]);
      expect(await secondsLeft(k.credited('entry-1'))).toBe(604_800);
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n - 5n - 7n - 11n - 13n + 100n, held: 0n });
    } finally {
      await store.close();
    }
  });

  it('refuses a marker life that is not a whole number of seconds, at least 1', () => {
    for (const seconds of [0, -1, 1.5, Number.NaN]) {
      expect(() => new RedisStateStore(redis.url, { settledMarkerSeconds: seconds })).toThrow(RangeError);
    }
  });
});
