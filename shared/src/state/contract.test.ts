import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeAdapters } from '../../../test/support/stores.ts';
import type { Announcement, KeyRecord, RouteTable } from '../snapshot.ts';
import type { UsageEvent } from '../usage.ts';
import type { StateStore } from './port.ts';

// The one contract both adapters keep; embedded mode is only as correct as this suite.

let orgCounter = 0;
const newOrg = (): string => `org-${process.pid}-${++orgCounter}`;

function usageEvent(orgId: string, requestId: string, cost: bigint): UsageEvent {
  return {
    v: 1, requestId, orgId, keyId: 'key-1', model: 'gpt-test', tier: 'resale', channelId: 'ch-1',
    upstreamModel: 'gpt-test-upstream', stream: false, inputTokens: 10, outputTokens: 5,
    usageSource: 'reported', cost: cost.toString(), startedAt: Date.now(), latencyMs: 12, status: 'ok', httpStatus: 200,
  };
}

const keyRecord: KeyRecord = { v: 1, id: 'key-1', orgId: 'org-1', defaultTier: 'resale', status: 'active', expiresAt: null };

function routeTable(version: number): RouteTable {
  return { v: 1, version, channels: {}, models: { [`m${version}`]: { name: `m${version}`, price: { inputPerMillion: '1', outputPerMillion: '2' }, targets: [], createdAt: 0 } } };
}

describe.each(storeAdapters)('state store contract: %s', (_name, make) => {
  let store: StateStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await make());
  });
  afterAll(async () => cleanup());

  describe('snapshots', () => {
    let seen: Announcement[];
    let resyncs: number;
    let unsubscribe: () => Promise<void>;

    beforeEach(async () => {
      seen = [];
      resyncs = 0;
      unsubscribe?.();
      unsubscribe = await store.subscribe({ onAnnouncement: (a) => seen.push(a), onResync: () => resyncs++ });
    });

    const until = async (predicate: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(predicate()).toBe(true);
    };

    it('stores, replaces and deletes key records, announcing each change', async () => {
      await store.putKeyRecord('h1', keyRecord);
      expect(await store.getKeyRecord('h1')).toEqual(keyRecord);
      await store.putKeyRecord('h1', { ...keyRecord, status: 'revoked' });
      expect((await store.getKeyRecord('h1'))?.status).toBe('revoked');
      await store.putKeyRecord('h1', null);
      expect(await store.getKeyRecord('h1')).toBeNull();
      expect(await store.getKeyRecord('unknown')).toBeNull();
      await until(() => seen.length >= 3);
      expect(seen.slice(0, 3)).toEqual([{ kind: 'key', hash: 'h1' }, { kind: 'key', hash: 'h1' }, { kind: 'key', hash: 'h1' }]);
      expect(resyncs).toBe(0);
    });

    it('keeps the newest route table when an older one arrives late', async () => {
      await store.putRouteTable(routeTable(5));
      await store.putRouteTable(routeTable(3));
      expect((await store.getRouteTable())?.version).toBe(5);
      await store.putRouteTable(routeTable(6));
      expect(await store.getRouteTable()).toEqual(routeTable(6));
      await until(() => seen.filter((a) => a.kind === 'routes').length >= 2);
      expect(seen.filter((a) => a.kind === 'routes')).toEqual([{ kind: 'routes', version: 5 }, { kind: 'routes', version: 6 }]);
    });
  });

  describe('balances', () => {
    it('seeds a balance only when none is held', async () => {
      const org = newOrg();
      expect(await store.getBalance(org)).toBeNull();
      expect(await store.seedBalance(org, 100n)).toBe(true);
      expect(await store.seedBalance(org, 999n)).toBe(false);
      expect(await store.getBalance(org)).toEqual({ balance: 100n, held: 0n });
    });

    it('applies a credit once per ledger entry', async () => {
      const org = newOrg();
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('no_balance');
      await store.seedBalance(org, 0n);
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('applied');
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('repeat');
      expect(await store.applyCredit(org, 'e2', -2n)).toBe('applied');
      expect((await store.getBalance(org))?.balance).toBe(3n);
    });

    it('reserves only what balance minus holds covers, to the nanocredit', async () => {
      const org = newOrg();
      const now = Date.now();
      const at = (requestId: string, amount: bigint) => ({ orgId: org, requestId, amount, nowMs: now, deadlineMs: now + 60_000 });
      expect(await store.reserve(at('r0', 1n))).toEqual({ ok: false, reason: 'no_balance' });
      await store.seedBalance(org, 1_000n);
      expect(await store.reserve(at('r1', 600n))).toEqual({ ok: true });
      expect(await store.reserve(at('r1', 1n))).toEqual({ ok: false, reason: 'duplicate_request' });
      expect(await store.reserve(at('r2', 401n))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(at('r2', 400n))).toEqual({ ok: true });
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 1_000n });
      expect(await store.reserve(at('r3', 1n))).toEqual({ ok: false, reason: 'insufficient_balance' });
    });

    it('settles: releases the hold, debits the cost once, and appends the usage event', async () => {
      const org = newOrg();
      const now = Date.now();
      await store.seedBalance(org, 1_000n);
      await store.reserve({ orgId: org, requestId: 'r1', amount: 700n, nowMs: now, deadlineMs: now + 60_000 });
      expect(await store.settle(usageEvent(org, 'r1', 123n))).toBe('settled');
      expect(await store.getBalance(org)).toEqual({ balance: 877n, held: 0n });
      expect(await store.settle(usageEvent(org, 'r1', 123n))).toBe('already_settled');
      expect(await store.getBalance(org)).toEqual({ balance: 877n, held: 0n });
    });

    it('releases holds whose deadline passed, and still debits their late settlement', async () => {
      const org = newOrg();
      const now = Date.now();
      await store.seedBalance(org, 100n);
      await store.reserve({ orgId: org, requestId: 'dead', amount: 100n, nowMs: now, deadlineMs: now + 10 });
      expect(await store.reserve({ orgId: org, requestId: 'next', amount: 50n, nowMs: now + 5, deadlineMs: now + 60_000 })).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve({ orgId: org, requestId: 'next', amount: 50n, nowMs: now + 11, deadlineMs: now + 60_000 })).toEqual({ ok: true });
      expect(await store.getBalance(org)).toEqual({ balance: 100n, held: 50n });
      await store.settle(usageEvent(org, 'dead', 30n));
      expect(await store.getBalance(org)).toEqual({ balance: 70n, held: 50n });
    });

    it('stays exact beyond 2^53 nanocredits', async () => {
      const org = newOrg();
      const big = 2n ** 60n + 7n;
      await store.seedBalance(org, big);
      const now = Date.now();
      expect(await store.reserve({ orgId: org, requestId: 'a', amount: big, nowMs: now, deadlineMs: now + 60_000 })).toEqual({ ok: true });
      expect(await store.reserve({ orgId: org, requestId: 'b', amount: 1n, nowMs: now, deadlineMs: now + 60_000 })).toEqual({ ok: false, reason: 'insufficient_balance' });
      await store.settle(usageEvent(org, 'a', big - 1n));
      expect(await store.getBalance(org)).toEqual({ balance: 1n, held: 0n });
    });

    it('never overspends under concurrent reservations', async () => {
      const org = newOrg();
      await store.seedBalance(org, 1_000n);
      const now = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.reserve({ orgId: org, requestId: `c${i}`, amount: 30n, nowMs: now, deadlineMs: now + 60_000 })),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(33);
      expect((await store.getBalance(org))?.held).toBe(990n);
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.settle(usageEvent(org, `c${i}`, 10n))));
      // All 50 settled (10 each) even though 17 never held money: cost is debited regardless.
      expect(await store.getBalance(org)).toEqual({ balance: 500n, held: 0n });
    });
  });

  describe('usage stream', () => {
    const drain = async (consumer: string): Promise<void> => {
      for (;;) {
        const batch = await store.readUsage(consumer, 500, 0);
        if (batch.length === 0) return;
        await store.ackUsage(batch.map((d) => d.id));
      }
    };

    it('delivers each settled event once, in order, until acknowledged', async () => {
      await drain('c0');
      const org = newOrg();
      await store.seedBalance(org, 1_000n);
      for (const id of ['u1', 'u2', 'u3']) await store.settle(usageEvent(org, id, 1n));
      const first = await store.readUsage('c1', 2, 0);
      expect(first.map((d) => JSON.parse(d.payload).requestId)).toEqual(['u1', 'u2']);
      const second = await store.readUsage('c2', 10, 0);
      expect(second.map((d) => JSON.parse(d.payload).requestId)).toEqual(['u3']);
      expect(await store.readUsage('c1', 10, 0)).toEqual([]);
      await store.ackUsage([...first, ...second].map((d) => d.id));
      expect(await store.claimStaleUsage('c3', 0, 10)).toEqual([]);
    });

    it('hands events of a consumer that died to another after the idle time', async () => {
      await drain('c0');
      const org = newOrg();
      await store.seedBalance(org, 1_000n);
      await store.settle(usageEvent(org, 'lost', 1n));
      const taken = await store.readUsage('dead-consumer', 10, 0);
      expect(taken).toHaveLength(1);
      expect(await store.claimStaleUsage('heir', 60_000, 10)).toEqual([]);
      await new Promise((r) => setTimeout(r, 30));
      const claimed = await store.claimStaleUsage('heir', 20, 10);
      expect(claimed.map((d) => d.id)).toEqual(taken.map((d) => d.id));
      await store.ackUsage(claimed.map((d) => d.id));
      expect(await store.claimStaleUsage('heir', 0, 10)).toEqual([]);
    });

    it('wakes a blocked reader when an event arrives', async () => {
      await drain('c0');
      const org = newOrg();
      await store.seedBalance(org, 1_000n);
      const reading = store.readUsage('waiter', 10, 5_000);
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await store.settle(usageEvent(org, 'wake', 1n));
      const batch = await reading;
      expect(batch.map((d) => JSON.parse(d.payload).requestId)).toEqual(['wake']);
      expect(Date.now() - started).toBeLessThan(4_000);
      await store.ackUsage(batch.map((d) => d.id));
    });
  });
});
