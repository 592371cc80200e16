import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStoreAdapter, remoteStoreAdapter, storeAdapters, type TestStore } from '../../../test/support/stores.ts';
import type { Announcement, ByokRecord, KeyRecord, RouteTable } from '../snapshot.ts';
import { ZERO_USAGE } from '../canonical/usage.ts';
import { decodeUsageEvent, type UsageEvent } from '../usage.ts';
import type { CounterCheck, CounterConsumption, Reservation, StateStore } from './port.ts';

// The one contract both adapters keep; embedded mode is only as correct as this suite. Every case
// runs against each adapter with the same exact expectations, so both give identical answers; and
// against the in-process one reached over a message port, as embedded mode's control plane does.

let sequence = 0;
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++sequence}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function usageEvent(orgId: string, requestId: string, cost: bigint): UsageEvent {
  return {
    v: 2, requestId, clientRequestId: null, orgId, keyId: 'key-1', model: 'gpt-test', tier: 'resale', lane: null,
    provider: 'openai', channelId: 'ch-1', byokCredentialId: null, upstreamModel: 'gpt-test-upstream', endpoint: '/v1/chat/completions',
    stream: false, usage: { ...ZERO_USAGE, input: 10, output: 5 }, usageSource: 'reported', chargeKind: 'usage',
    cost: cost.toString(), providerCost: '0', hold: cost.toString(), overHold: false, attempts: [],
    startedAt: 1_700_000_000_000, latencyMs: 12, status: 'ok', httpStatus: 200, errorCode: null,
  };
}

const settlement = (orgId: string, requestId: string, cost: bigint, consumption: CounterConsumption[] = []) => ({
  event: usageEvent(orgId, requestId, cost),
  consumption,
});

function reservation(orgId: string, requestId: string, amount: bigint, extra: Partial<Reservation> = {}): Reservation {
  const now = Date.now();
  return { orgId, requestId, instance: 'dp_test', orphan: usageEvent(orgId, requestId, 0n), amount, overdraft: 0n, checks: [], nowMs: now, deadlineMs: now + 60_000, ...extra };
}

/** A cap released when the request ends (concurrency). */
const concurrency = (limit: number): CounterCheck => ({ name: 'concurrency_limit', counter: 'conc', add: 1, limit, ttlSeconds: null, release: true });
/** A window filled at settlement (fair use): checked with add 0. */
const fairUse = (limit: number, ttlSeconds: number | null = 3600): CounterCheck => ({
  name: 'plan_limit', counter: 'fair:2026-11', add: 0, limit, ttlSeconds, release: false,
});

const keyRecord: KeyRecord = {
  v: 2, id: 'key-1', orgId: 'org-1', defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: ['cheap', 'resale'], planId: 'plan-1',
};

function routeTable(version: number): RouteTable {
  return {
    v: 2,
    version,
    channels: {
      'ch-1': {
        id: 'ch-1', name: 'openai main', provider: 'openai', protocol: 'openai', baseUrl: 'https://api.openai.com/v1', tier: 'resale',
        credentialSealed: 'e1.kid.a.b.c.d', enabled: true, timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 3000, totalMs: 4000 },
        retries: 1, modelMap: { 'gpt-4o': 'gpt-4o-2024-08-06' }, extraHeaders: { 'x-extra': '1' }, maxConcurrency: 10, allowPrivateNetwork: false,
      },
    },
    models: {
      [`m${version}`]: {
        name: `m${version}`, prices: { resale: { input: '2500', output: '10000' } }, maxOutputTokens: 4096,
        targets: [{ channelId: 'ch-1', upstreamModel: 'gpt-4o', priority: 0, weight: 1, cost: { input: '2000', output: '8000', cachedInput: '1000' } }],
        byok: [{ provider: 'openai', upstreamModel: 'gpt-4o', listPrice: { input: '2500', output: '10000' } }],
        createdAt: 1_700_000_000_000,
      },
    },
    plans: {
      'plan-1': {
        id: 'plan-1', name: 'Flat', window: 'month', premiumAllowanceTokens: 1_000_000, concurrency: 4, continuationAllowed: true, fallbackAllowed: false,
        lanes: { premium: { model: 'gpt-4o', tier: 'resale' }, continuation: { model: 'gpt-4o-mini', tier: 'cheap' }, fallback: null },
      },
    },
    byokFeeBps: 500,
  };
}

/** Route table versions only grow within one store, so each test takes a range above the last one's. */
let versionBase = 0;
const nextVersionBase = (): number => (versionBase += 1000);

interface Recorder {
  /** Everything announced since the last call, in order (a sentinel announcement marks the end). */
  announced(): Promise<Announcement[]>;
  resyncs(): number;
  stop(): Promise<void>;
}

async function record(store: StateStore): Promise<Recorder> {
  const seen: Announcement[] = [];
  let resyncs = 0;
  const unsubscribe = await store.subscribe({ onAnnouncement: (a) => seen.push(a), onResync: () => resyncs++ });
  return {
    async announced() {
      const hash = unique('sentinel');
      await store.putKeyRecord(hash, null);
      const isSentinel = (a: Announcement): boolean => a.kind === 'key' && a.hash === hash;
      for (let i = 0; i < 500 && !seen.some(isSentinel); i++) await sleep(5);
      expect(seen.some(isSentinel)).toBe(true);
      // In a Redis Cluster, announcements of keys on different nodes travel the cluster bus on
      // their own: the sentinel may overtake earlier ones. Anything sent before it arrives soon.
      await sleep(50);
      return seen.splice(0, seen.length).filter((a) => !isSentinel(a));
    },
    resyncs: () => resyncs,
    stop: unsubscribe,
  };
}

/** A counter's current value, read through a reservation that holds nothing and adds nothing. */
async function peek(store: StateStore, orgId: string, counter: string): Promise<number> {
  const outcome = await store.reserve(
    reservation(orgId, unique('peek'), 0n, {
      overdraft: 2n ** 62n,
      checks: [{ name: 'peek', counter, add: 0, limit: Number.MAX_SAFE_INTEGER, ttlSeconds: null, release: false }],
    }),
  );
  if (!outcome.ok) throw new Error(`peek failed: ${JSON.stringify(outcome)}`);
  return outcome.counters[counter]!;
}

describe.each([...storeAdapters, remoteStoreAdapter, clusterStoreAdapter])('state store contract: %s', (_name, make) => {
  let store: StateStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await make());
  });
  afterAll(async () => cleanup());

  /** A fresh org with a seeded balance. */
  const newOrg = async (balance: bigint): Promise<string> => {
    const org = unique('org');
    expect(await store.seedBalance(org, balance)).toBe(true);
    return org;
  };

  describe('key records', () => {
    it('stores, replaces and deletes v2 key records, announcing each change', async () => {
      const recorder = await record(store);
      const hash = unique('hash');
      await store.putKeyRecord(hash, keyRecord);
      expect(await store.getKeyRecord(hash)).toEqual(keyRecord);
      const revoked: KeyRecord = { ...keyRecord, status: 'revoked', expiresAt: 1_800_000_000_000, allowedTiers: null, planId: null };
      await store.putKeyRecord(hash, revoked);
      expect(await store.getKeyRecord(hash)).toEqual(revoked);
      await store.putKeyRecord(hash, null);
      expect(await store.getKeyRecord(hash)).toBeNull();
      expect(await store.getKeyRecord(unique('unknown'))).toBeNull();
      expect(await recorder.announced()).toEqual([{ kind: 'key', hash }, { kind: 'key', hash }, { kind: 'key', hash }]);
      expect(recorder.resyncs()).toBe(0);
      await recorder.stop();
    });

    it('hands out copies: changing a record read back changes nothing stored', async () => {
      const hash = unique('hash');
      const written: KeyRecord = { ...keyRecord, allowedTiers: ['cheap'] };
      await store.putKeyRecord(hash, written);
      written.allowedTiers!.push('byok');
      const read = await store.getKeyRecord(hash);
      read!.allowedTiers!.push('resale');
      expect(await store.getKeyRecord(hash)).toEqual({ ...keyRecord, allowedTiers: ['cheap'] });
    });
  });

  describe('route table', () => {
    it('is null before any table was stored', async () => {
      const fresh: TestStore = await make();
      try {
        expect(await fresh.store.getRouteTable()).toBeNull();
      } finally {
        await fresh.cleanup();
      }
    });

    it('round-trips a v2 table with channels, models and plans', async () => {
      const table = routeTable(nextVersionBase());
      await store.putRouteTable(table);
      expect(await store.getRouteTable()).toEqual(table);
    });

    it('keeps the newest table when an older one arrives late, and announces only stored ones', async () => {
      const base = nextVersionBase();
      const recorder = await record(store);
      await store.putRouteTable(routeTable(base + 5));
      await store.putRouteTable(routeTable(base + 3));
      expect(await store.getRouteTable()).toEqual(routeTable(base + 5));
      await store.putRouteTable(routeTable(base + 6));
      expect(await store.getRouteTable()).toEqual(routeTable(base + 6));
      expect(await recorder.announced()).toEqual([
        { kind: 'routes', version: base + 5 },
        { kind: 'routes', version: base + 6 },
      ]);
      await recorder.stop();
    });

    it('replaces a table of the same version', async () => {
      const base = nextVersionBase();
      await store.putRouteTable(routeTable(base));
      const changed = { ...routeTable(base), byokFeeBps: 250 };
      await store.putRouteTable(changed);
      expect(await store.getRouteTable()).toEqual(changed);
    });

    it('leaves out a channel it cannot read (a byok channel) and reports it, keeping the rest', async () => {
      const table = routeTable(nextVersionBase());
      const bad = { ...table.channels['ch-1']!, id: 'ch-bad', tier: 'byok' } as unknown as RouteTable['channels'][string];
      await store.putRouteTable({ ...table, channels: { ...table.channels, 'ch-bad': bad } });
      const skipped: string[] = [];
      expect(await store.getRouteTable((what, error) => skipped.push(`${what}: ${error.name}`))).toEqual(table);
      expect(skipped).toEqual(['channels.ch-bad: SnapshotFormatError']);
    });
  });

  describe('byok records', () => {
    const byok = (orgId: string, provider: ByokRecord['provider']): ByokRecord => ({
      v: 1, id: unique('cred'), orgId, provider, credentialSealed: `e1.kid.wrapped.${provider}.iv.body`,
    });

    it('stores, replaces and deletes per org and provider, announcing each change', async () => {
      const recorder = await record(store);
      const orgA = unique('org');
      const orgB = unique('org');
      const a = byok(orgA, 'openai');
      await store.putByokRecord(orgA, 'openai', a);
      expect(await store.getByokRecord(orgA, 'openai')).toEqual(a);
      // Another org, and another provider of the same org, see nothing.
      expect(await store.getByokRecord(orgB, 'openai')).toBeNull();
      expect(await store.getByokRecord(orgA, 'anthropic')).toBeNull();
      const b = byok(orgB, 'openai');
      await store.putByokRecord(orgB, 'openai', b);
      const replaced = byok(orgA, 'openai');
      await store.putByokRecord(orgA, 'openai', replaced);
      expect(await store.getByokRecord(orgA, 'openai')).toEqual(replaced);
      expect(await store.getByokRecord(orgB, 'openai')).toEqual(b);
      await store.putByokRecord(orgA, 'openai', null);
      expect(await store.getByokRecord(orgA, 'openai')).toBeNull();
      expect(await store.getByokRecord(orgB, 'openai')).toEqual(b);
      // In a Redis Cluster the two orgs' keys live on different nodes, whose announcements may
      // arrive in either order: compared without the order across orgs.
      const byOrder = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
      expect((await recorder.announced()).sort(byOrder)).toEqual(
        [
          { kind: 'byok', orgId: orgA, provider: 'openai' },
          { kind: 'byok', orgId: orgB, provider: 'openai' },
          { kind: 'byok', orgId: orgA, provider: 'openai' },
          { kind: 'byok', orgId: orgA, provider: 'openai' },
        ].sort(byOrder),
      );
      await recorder.stop();
    });
  });

  describe('subscriptions', () => {
    it('keeps delivering to one subscriber after another unsubscribed (twice)', async () => {
      const first = await record(store);
      const second = await record(store);
      await first.stop();
      await first.stop();
      const hash = unique('hash');
      await store.putKeyRecord(hash, keyRecord);
      expect(await second.announced()).toEqual([{ kind: 'key', hash }]);
      await second.stop();
    });
  });

  describe('balances', () => {
    it('seeds a balance only when none is held', async () => {
      const org = unique('org');
      expect(await store.getBalance(org)).toBeNull();
      expect(await store.seedBalance(org, 100n)).toBe(true);
      expect(await store.seedBalance(org, 999n)).toBe(false);
      expect(await store.getBalance(org)).toEqual({ balance: 100n, held: 0n });
    });

    it('applies a credit once per ledger entry', async () => {
      const org = unique('org');
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('no_balance');
      expect(await store.getBalance(org)).toBeNull();
      await store.seedBalance(org, 0n);
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('applied');
      expect(await store.applyCredit(org, 'e1', 5n)).toBe('repeat');
      expect(await store.applyCredit(org, 'e2', -2n)).toBe('applied');
      expect(await store.getBalance(org)).toEqual({ balance: 3n, held: 0n });
    });
  });

  describe('reserve', () => {
    it('reserves only what balance minus holds covers, to the nanocredit', async () => {
      const org = unique('org');
      expect(await store.reserve(reservation(org, 'r0', 1n))).toEqual({ ok: false, reason: 'no_balance' });
      await store.seedBalance(org, 1_000n);
      expect(await store.reserve(reservation(org, 'r1', 600n))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.reserve(reservation(org, 'r1', 1n))).toEqual({ ok: false, reason: 'duplicate_request' });
      expect(await store.reserve(reservation(org, 'r2', 401n))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'r2', 400n))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 1_000n });
      expect(await store.reserve(reservation(org, 'r3', 1n))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'r4', 0n))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 1_000n });
    });

    it('lets the balance go down to exactly -overdraft, not one nanocredit further', async () => {
      const org = await newOrg(100n);
      expect(await store.reserve(reservation(org, 'over', 151n, { overdraft: 50n }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'a', 150n, { overdraft: 50n }))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.getBalance(org)).toEqual({ balance: 100n, held: 150n });
      expect(await store.reserve(reservation(org, 'b', 1n, { overdraft: 50n }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      // Without overdraft the same hold would not have passed at all.
      expect(await store.reserve(reservation(org, 'c', 0n))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.settle(settlement(org, 'a', 150n))).toBe('settled');
      expect(await store.getBalance(org)).toEqual({ balance: -50n, held: 0n });
      expect(await store.reserve(reservation(org, 'd', 1n, { overdraft: 50n }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'e', 0n, { overdraft: 50n }))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
    });

    it('compares exactly beyond 2^53 nanocredits, overdraft included', async () => {
      const big = 2n ** 60n + 7n;
      const org = await newOrg(big);
      expect(await store.reserve(reservation(org, 'a', big))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.reserve(reservation(org, 'b', 1n))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'c', big + 1n, { overdraft: big }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'd', big, { overdraft: big }))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.getBalance(org)).toEqual({ balance: big, held: 2n * big });
      await store.settle(settlement(org, 'a', big - 1n));
      expect(await store.getBalance(org)).toEqual({ balance: 1n, held: big });
      await store.settle(settlement(org, 'd', big));
      expect(await store.getBalance(org)).toEqual({ balance: 1n - big, held: 0n });
    });

    it('releases a hold whose deadline passed (at the deadline, not before), and still debits its late settlement', async () => {
      const org = await newOrg(100n);
      const now = Date.now();
      await store.reserve(reservation(org, 'dead', 100n, { nowMs: now, deadlineMs: now + 10 }));
      expect(await store.reserve(reservation(org, 'next', 50n, { nowMs: now + 9, deadlineMs: now + 60_000 }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await store.reserve(reservation(org, 'next', 50n, { nowMs: now + 10, deadlineMs: now + 60_000 }))).toEqual({ ok: true, available: expect.any(BigInt), counters: {} });
      expect(await store.getBalance(org)).toEqual({ balance: 100n, held: 50n });
      expect(await store.settle(settlement(org, 'dead', 30n))).toBe('settled');
      expect(await store.getBalance(org)).toEqual({ balance: 70n, held: 50n });
    });

    it('never overspends under 50 concurrent reservations', async () => {
      const org = await newOrg(1_000n);
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reserve(reservation(org, `c${i}`, 30n))));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(33);
      expect(outcomes.filter((o) => !o.ok)).toEqual(Array.from({ length: 17 }, () => ({ ok: false, reason: 'insufficient_balance' })));
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 990n });
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.settle(settlement(org, `c${i}`, 10n))));
      // All 50 settled (10 each) even though 17 never held money: cost is debited regardless.
      expect(await store.getBalance(org)).toEqual({ balance: 500n, held: 0n });
    });
  });

  describe('input validation', () => {
    it.each([
      ['a fractional add', { checks: [{ name: 'c', counter: 'conc', add: 1.5, limit: 10, ttlSeconds: null, release: true }] }],
      ['a negative amount', { amount: -1n }],
      ['a counter name a hold record cannot carry', { checks: [{ name: 'c', counter: 'a=b,c', add: 1, limit: 10, ttlSeconds: null, release: true }] }],
      ['an org id with separators', { orgId: 'org,=x' }],
    ] as const)('refuses %s before writing anything', async (_what, extra) => {
      const org = await newOrg(1_000n);
      const input = { ...reservation(org, unique('bad'), 100n), ...extra } as Reservation;
      await expect(store.reserve(input)).rejects.toThrow(RangeError);
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 0n });
    });

    it('refuses a settlement with a fractional consumption before writing anything', async () => {
      const org = await newOrg(1_000n);
      await expect(store.settle(settlement(org, unique('bad'), 5n, [{ counter: 'fair', amount: 0.5, ttlSeconds: null }]))).rejects.toThrow(RangeError);
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 0n });
    });
  });

  describe('counter checks', () => {
    it('a released cap passes exactly `limit` concurrent holds; the next fails and changes nothing', async () => {
      const org = await newOrg(1_000n);
      expect(await store.reserve(reservation(org, 'a', 10n, { checks: [concurrency(3)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
      expect(await store.reserve(reservation(org, 'b', 10n, { checks: [concurrency(3)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 2 } });
      expect(await store.reserve(reservation(org, 'c', 10n, { checks: [concurrency(3)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 3 } });
      expect(await store.reserve(reservation(org, 'd', 10n, { checks: [concurrency(3)] }))).toEqual({ ok: false, reason: 'check_failed', check: 'concurrency_limit' });
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 30n });
      expect(await peek(store, org, 'conc')).toBe(3);
      // 'd' left no hold behind: it can be reserved once a slot is free.
      await store.settle(settlement(org, 'a', 5n));
      expect(await store.reserve(reservation(org, 'd', 10n, { checks: [concurrency(3)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 3 } });
    });

    it('under 50 concurrent reservations exactly `limit` pass the cap', async () => {
      const org = await newOrg(1_000_000n);
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reserve(reservation(org, `p${i}`, 1n, { checks: [concurrency(7)] }))));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(7);
      expect(outcomes.filter((o) => !o.ok)).toEqual(Array.from({ length: 43 }, () => ({ ok: false, reason: 'check_failed', check: 'concurrency_limit' })));
      expect(await store.getBalance(org)).toEqual({ balance: 1_000_000n, held: 7n });
      expect(await peek(store, org, 'conc')).toBe(7);
    });

    it('a failing check leaves the counters of passing checks untouched', async () => {
      const org = await newOrg(1_000n);
      const rpm: CounterCheck = { name: 'rate_limited', counter: 'rpm:1', add: 1, limit: 100, ttlSeconds: 60, release: false };
      const full: CounterCheck = { name: 'plan_limit', counter: 'full', add: 5, limit: 4, ttlSeconds: null, release: false };
      expect(await store.reserve(reservation(org, 'x', 10n, { checks: [rpm, concurrency(5), full] }))).toEqual({ ok: false, reason: 'check_failed', check: 'plan_limit' });
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 0n });
      expect(await peek(store, org, 'rpm:1')).toBe(0);
      expect(await peek(store, org, 'conc')).toBe(0);
      expect(await peek(store, org, 'full')).toBe(0);
    });

    it('an insufficient balance leaves every counter untouched', async () => {
      const org = await newOrg(10n);
      expect(await store.reserve(reservation(org, 'x', 11n, { checks: [concurrency(5)] }))).toEqual({ ok: false, reason: 'insufficient_balance' });
      expect(await peek(store, org, 'conc')).toBe(0);
      expect(await store.reserve(reservation(org, 'y', 10n, { checks: [concurrency(1)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
    });

    it('a check with add N passes while counter + N <= limit', async () => {
      const org = await newOrg(1_000n);
      const tokens = (add: number): CounterCheck => ({ name: 'rate_limited', counter: 'tpm', add, limit: 10, ttlSeconds: null, release: false });
      expect(await store.reserve(reservation(org, 'a', 1n, { checks: [tokens(6)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { tpm: 6 } });
      expect(await store.reserve(reservation(org, 'b', 1n, { checks: [tokens(5)] }))).toEqual({ ok: false, reason: 'check_failed', check: 'rate_limited' });
      expect(await store.reserve(reservation(org, 'c', 1n, { checks: [tokens(4)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { tpm: 10 } });
      // Not released: a rate counter stays after the request settles.
      await store.settle(settlement(org, 'a', 0n));
      expect(await peek(store, org, 'tpm')).toBe(10);
    });

    it('releases a cap at settlement, once, however often the settlement repeats', async () => {
      const org = await newOrg(1_000n);
      expect(await store.reserve(reservation(org, 'a', 10n, { checks: [concurrency(1)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
      expect(await store.reserve(reservation(org, 'b', 10n, { checks: [concurrency(1)] }))).toEqual({ ok: false, reason: 'check_failed', check: 'concurrency_limit' });
      expect(await store.settle(settlement(org, 'a', 4n))).toBe('settled');
      expect(await store.reserve(reservation(org, 'b', 10n, { checks: [concurrency(1)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
      expect(await store.settle(settlement(org, 'a', 4n))).toBe('already_settled');
      expect(await peek(store, org, 'conc')).toBe(1);
      expect(await store.reserve(reservation(org, 'c', 10n, { checks: [concurrency(1)] }))).toEqual({ ok: false, reason: 'check_failed', check: 'concurrency_limit' });
      expect(await store.getBalance(org)).toEqual({ balance: 996n, held: 10n });
    });

    it('releases a cap when its hold expires, and not again at the late settlement', async () => {
      const org = await newOrg(1_000n);
      const now = Date.now();
      expect(await store.reserve(reservation(org, 'dead', 10n, { checks: [concurrency(2)], nowMs: now, deadlineMs: now + 10 }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
      expect(await store.reserve(reservation(org, 'a', 10n, { checks: [concurrency(2)], nowMs: now + 10, deadlineMs: now + 60_000 }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1 } });
      expect(await store.settle(settlement(org, 'dead', 3n))).toBe('settled');
      expect(await peek(store, org, 'conc')).toBe(1);
      expect(await store.getBalance(org)).toEqual({ balance: 997n, held: 10n });
    });

    it('checks a window with add 0 against its limit and fills it with consumption at settlement', async () => {
      const org = await newOrg(1_000n);
      expect(await store.reserve(reservation(org, 'a', 1n, { checks: [fairUse(100)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'fair:2026-11': 0 } });
      expect(await store.settle(settlement(org, 'a', 1n, [{ counter: 'fair:2026-11', amount: 60, ttlSeconds: 3600 }]))).toBe('settled');
      expect(await store.reserve(reservation(org, 'b', 1n, { checks: [fairUse(100)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'fair:2026-11': 60 } });
      expect(await store.settle(settlement(org, 'b', 1n, [{ counter: 'fair:2026-11', amount: 39, ttlSeconds: 3600 }]))).toBe('settled');
      // 99 < 100 passes; a repeated settlement adds nothing; 100 is the end of the window.
      expect(await store.reserve(reservation(org, 'c', 1n, { checks: [fairUse(100)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'fair:2026-11': 99 } });
      expect(await store.settle(settlement(org, 'b', 1n, [{ counter: 'fair:2026-11', amount: 39, ttlSeconds: 3600 }]))).toBe('already_settled');
      expect(await store.settle(settlement(org, 'c', 1n, [{ counter: 'fair:2026-11', amount: 1, ttlSeconds: 3600 }, { counter: 'other', amount: 0, ttlSeconds: null }]))).toBe('settled');
      expect(await store.reserve(reservation(org, 'd', 1n, { checks: [fairUse(100)] }))).toEqual({ ok: false, reason: 'check_failed', check: 'plan_limit' });
      expect(await peek(store, org, 'fair:2026-11')).toBe(100);
      expect(await peek(store, org, 'other')).toBe(0);
      expect(await store.getBalance(org)).toEqual({ balance: 997n, held: 0n });
    });

    it('returns every checked counter, and keeps counters per org', async () => {
      const org = await newOrg(1_000n);
      const other = await newOrg(1_000n);
      await store.settle(settlement(org, 'seed', 0n, [{ counter: 'fair:2026-11', amount: 42, ttlSeconds: null }]));
      expect(await store.reserve(reservation(org, 'a', 1n, { checks: [concurrency(3), fairUse(100)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1, 'fair:2026-11': 42 } });
      expect(await store.reserve(reservation(other, 'a', 1n, { checks: [concurrency(3), fairUse(100)] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { conc: 1, 'fair:2026-11': 0 } });
    });

    it('refuses counter names a hold record cannot carry, in both adapters alike', async () => {
      const org = await newOrg(1_000n);
      const bad: CounterCheck = { ...concurrency(3), counter: 'a=1,b' };
      await expect(store.reserve(reservation(org, 'a', 1n, { checks: [bad] }))).rejects.toThrow(RangeError);
      await expect(store.settle(settlement(org, 'a', 1n, [{ counter: 'x|y', amount: 1, ttlSeconds: null }]))).rejects.toThrow(RangeError);
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 0n });
    });
  });

  describe('settle', () => {
    it('releases the hold, debits the cost once, and appends the usage event', async () => {
      const org = await newOrg(1_000n);
      await store.reserve(reservation(org, 'r1', 700n));
      expect(await store.settle(settlement(org, 'r1', 123n))).toBe('settled');
      expect(await store.getBalance(org)).toEqual({ balance: 877n, held: 0n });
      expect(await store.settle(settlement(org, 'r1', 123n))).toBe('already_settled');
      expect(await store.getBalance(org)).toEqual({ balance: 877n, held: 0n });
    });

    it('never creates a balance it does not hold: the seed from the ledger (which has the event) stays possible', async () => {
      const org = unique('org');
      expect(await store.settle(settlement(org, 'r1', 5n))).toBe('settled');
      expect(await store.getBalance(org)).toBeNull();
      // The control plane seeds ledger minus unconsumed events; the event is in the stream.
      expect(await store.seedBalance(org, 95n)).toBe(true);
      expect(await store.applyCredit(org, 'e1', 10n)).toBe('applied');
      expect(await store.getBalance(org)).toEqual({ balance: 105n, held: 0n });
    });

    it('reports what is left to hold after a reservation, overdraft included', async () => {
      const org = await newOrg(1_000n);
      expect(await store.reserve(reservation(org, unique('r'), 300n))).toEqual({ ok: true, available: 700n, counters: {} });
      expect(await store.reserve(reservation(org, unique('r'), 100n, { overdraft: 50n }))).toEqual({ ok: true, available: 650n, counters: {} });
    });
  });

  describe('after a wipe: settlements without a balance, the consumer\'s debit, the seed', () => {
    const ofOrg = async (org: string) =>
      (await store.unconsumedUsage(100_000)).filter((d) => decodeUsageEvent(d.payload).orgId === org).map((d) => [decodeUsageEvent(d.payload).requestId, d.storeDebited]);

    it('marks each event with whether settlement debited the balance, and leaves counters to the seed without one', async () => {
      const org = unique('org');
      const spend = (amount: number): CounterConsumption[] => [{ counter: 'k.spend.life', amount, ttlSeconds: null }];
      expect(await store.settle(settlement(org, 'wiped', 7n, spend(7)))).toBe('settled');
      expect(await store.getCounters(org, ['k.spend.life'])).toEqual({ 'k.spend.life': 0 });
      expect(await store.seedBalance(org, 100n)).toBe(true);
      expect(await store.settle(settlement(org, 'normal', 3n, spend(3)))).toBe('settled');
      expect(await store.getCounters(org, ['k.spend.life'])).toEqual({ 'k.spend.life': 3 });
      expect(await ofOrg(org)).toEqual([
        ['wiped', false],
        ['normal', true],
      ]);
    });

    it('debits an undebited event once, after the seed; a debited one never', async () => {
      const org = unique('org');
      await store.settle(settlement(org, 'a', 7n));
      expect(await store.debitOnce(org, 'a', 7n)).toBe('no_balance');
      expect(await store.seedBalance(org, 100n)).toBe(true);
      expect(await store.debitOnce(org, 'a', 7n)).toBe('applied');
      expect(await store.debitOnce(org, 'a', 7n)).toBe('repeat');
      await store.settle(settlement(org, 'b', 5n));
      expect(await store.debitOnce(org, 'b', 5n)).toBe('repeat');
      expect(await store.getBalance(org)).toEqual({ balance: 88n, held: 0n });
    });

    it('a seed marks the included requests debited (the ledger has them); a later seed debits those it did not', async () => {
      const org = unique('org');
      expect(await store.seedBalance(org, 90n, [{ requestId: 'x', cost: 10n }])).toBe(true);
      expect(await store.debitOnce(org, 'x', 10n)).toBe('repeat');
      expect(await store.getBalance(org)).toEqual({ balance: 90n, held: 0n });
      // A balance is there: included requests not debited yet are debited now, once.
      expect(await store.seedBalance(org, 1_000n, [{ requestId: 'x', cost: 10n }, { requestId: 'y', cost: 4n }])).toBe(false);
      expect(await store.seedBalance(org, 1_000n, [{ requestId: 'y', cost: 4n }])).toBe(false);
      expect(await store.getBalance(org)).toEqual({ balance: 86n, held: 0n });
    });

    it('seeds counters only where none is held, or over them for a repair', async () => {
      const org = await newOrg(1_000n);
      await store.settle(settlement(org, unique('r'), 1n, [{ counter: 'k.spend.life', amount: 5, ttlSeconds: null }]));
      expect(await store.seedCounters(org, [{ counter: 'k.spend.life', value: 40, ttlSeconds: null }, { counter: 'k.spend.day.d1', value: 9, ttlSeconds: 3600 }], 'nx')).toBe(1);
      expect(await store.getCounters(org, ['k.spend.life', 'k.spend.day.d1', 'absent'])).toEqual({ 'k.spend.life': 5, 'k.spend.day.d1': 9, absent: 0 });
      expect(await store.seedCounters(org, [{ counter: 'k.spend.life', value: 40, ttlSeconds: null }], 'set')).toBe(1);
      expect(await store.getCounters(org, ['k.spend.life'])).toEqual({ 'k.spend.life': 40 });
      expect(await peek(store, org, 'k.spend.day.d1')).toBe(9);
    });

    it('adjusts a held balance by a repair delta, and creates none', async () => {
      const org = await newOrg(1_000n);
      expect(await store.adjustBalance(org, -250n)).toBe(true);
      expect(await store.getBalance(org)).toEqual({ balance: 750n, held: 0n });
      const other = unique('org');
      expect(await store.adjustBalance(other, 5n)).toBe(false);
      expect(await store.getBalance(other)).toBeNull();
    });

    it('replays events as not debited here, touching no balance', async () => {
      const org = await newOrg(1_000n);
      await store.replayUsage([usageEvent(org, 'lost-1', 5n), usageEvent(org, 'lost-2', 6n)]);
      expect(await ofOrg(org)).toEqual([
        ['lost-1', false],
        ['lost-2', false],
      ]);
      expect(await store.getBalance(org)).toEqual({ balance: 1_000n, held: 0n });
      const all = await store.readUsage(unique('c'), 10_000, 0);
      await store.ackUsage(all.map((d) => d.id));
    });

    it('lists every event not yet acknowledged, delivered or not', async () => {
      const org = await newOrg(1_000n);
      for (const id of ['p1', 'p2', 'p3']) await store.settle(settlement(org, id, 1n));
      const all = await store.readUsage(unique('c'), 10_000, 0);
      const delivered = all.filter((d) => decodeUsageEvent(d.payload).orgId === org);
      expect(await ofOrg(org)).toEqual([
        ['p1', true],
        ['p2', true],
        ['p3', true],
      ]);
      await store.ackUsage(delivered.filter((d) => decodeUsageEvent(d.payload).requestId !== 'p2').map((d) => d.id));
      expect(await ofOrg(org)).toEqual([['p2', true]]);
      await store.ackUsage(all.map((d) => d.id));
    });
  });

  describe('instances and orphaned requests', () => {
    it('lists instances whose heartbeat is older than a bound', async () => {
      const [live, dead] = [unique('dp'), unique('dp')];
      await store.heartbeat(dead, 1_000);
      await store.heartbeat(live, 5_000);
      const stale = await store.staleInstances(4_000);
      expect(stale.filter((i) => i === live || i === dead)).toEqual([dead]);
    });

    it("settles a dead instance's requests once: hold and counters released, the orphan event appended", async () => {
      for (let batch = await store.readUsage('c0', 500, 0); batch.length > 0; batch = await store.readUsage('c0', 500, 0)) await store.ackUsage(batch.map((d) => d.id));
      const org = await newOrg(1_000n);
      const [dead, other] = [unique('dp'), unique('dp')];
      const orphan = { ...usageEvent(org, 'orphan-1', 30n), status: 'orphaned' as const };
      expect(await store.reserve(reservation(org, 'orphan-1', 100n, { instance: dead, orphan, checks: [concurrency(5)] }))).toMatchObject({ ok: true });
      expect(await store.reserve(reservation(org, 'kept-1', 50n, { instance: other }))).toMatchObject({ ok: true });
      await store.heartbeat(dead, 1);
      expect(await store.settleOrphans(dead, 60_000)).toBe(1);
      expect(await store.getBalance(org)).toEqual({ balance: 970n, held: 50n });
      expect(await peek(store, org, 'conc')).toBe(0);
      const batch = await store.readUsage('c1', 10, 0);
      expect(batch.map((d) => JSON.parse(d.payload) as { requestId: string; status: string })).toEqual([expect.objectContaining({ requestId: 'orphan-1', status: 'orphaned' })]);
      await store.ackUsage(batch.map((d) => d.id));
      // Gone from the instances; a late settlement from the "dead" instance changes nothing.
      expect((await store.staleInstances(Number.MAX_SAFE_INTEGER)).includes(dead)).toBe(false);
      expect(await store.settle(settlement(org, 'orphan-1', 99n))).toBe('already_settled');
      expect(await store.getBalance(org)).toEqual({ balance: 970n, held: 50n });
    });

    it('settles nothing that was settled normally, and lets one janitor at a time take an instance', async () => {
      const org = await newOrg(1_000n);
      const dead = unique('dp');
      await store.reserve(reservation(org, 'done-1', 100n, { instance: dead }));
      await store.settle(settlement(org, 'done-1', 10n));
      await store.reserve(reservation(org, 'open-1', 100n, { instance: dead, orphan: usageEvent(org, 'open-1', 20n) }));
      expect(await Promise.all([store.settleOrphans(dead, 60_000), store.settleOrphans(dead, 60_000)])).toEqual([1, 0]);
      expect(await store.getBalance(org)).toEqual({ balance: 970n, held: 0n });
    });

    it('keeps the epoch the control plane writes', async () => {
      const epoch = unique('epoch');
      await store.setEpoch(epoch);
      expect(await store.getEpoch()).toBe(epoch);
    });
  });

  describe('breakers', () => {
    const policy = (nowMs: number) => ({ nowMs, threshold: 3, coolDownMs: 1_000 });
    const t = 1_700_000_000_000;

    it('counts failures to the threshold, then opens until now + coolDown and announces once', async () => {
      const channel = unique('ch');
      const recorder = await record(store);
      expect(await store.getBreaker(channel)).toEqual({ openUntil: 0, failures: 0 });
      expect(await store.breakerFailure(channel, policy(t))).toEqual({ openUntil: 0, failures: 1 });
      expect(await store.breakerFailure(channel, policy(t + 1))).toEqual({ openUntil: 0, failures: 2 });
      expect(await recorder.announced()).toEqual([]);
      expect(await store.breakerFailure(channel, policy(t + 2))).toEqual({ openUntil: t + 1_002, failures: 3 });
      expect(await store.getBreaker(channel)).toEqual({ openUntil: t + 1_002, failures: 3 });
      // More failures while open change nothing but the count, and announce nothing.
      expect(await store.breakerFailure(channel, policy(t + 500))).toEqual({ openUntil: t + 1_002, failures: 4 });
      expect(await recorder.announced()).toEqual([{ kind: 'breaker', channelId: channel }]);
      await recorder.stop();
    });

    it('lets no probe through before the cool-down, exactly one after it, and another once its lease ends', async () => {
      const channel = unique('ch');
      for (let i = 0; i < 3; i++) await store.breakerFailure(channel, policy(t));
      expect(await store.breakerTryProbe(channel, t + 999, 5_000)).toBe(false);
      const racers = await Promise.all(Array.from({ length: 10 }, () => store.breakerTryProbe(channel, t + 1_000, 5_000)));
      expect(racers.filter(Boolean)).toHaveLength(1);
      expect(await store.breakerTryProbe(channel, t + 5_999, 5_000)).toBe(false);
      expect(await store.breakerTryProbe(channel, t + 6_000, 5_000)).toBe(true);
      expect(await store.breakerTryProbe(channel, t + 6_001, 5_000)).toBe(false);
    });

    it('a closed breaker lets every caller through', async () => {
      const channel = unique('ch');
      expect(await store.breakerTryProbe(channel, t, 5_000)).toBe(true);
      expect(await store.breakerTryProbe(channel, t, 5_000)).toBe(true);
      await store.breakerFailure(channel, policy(t));
      expect(await store.breakerTryProbe(channel, t, 5_000)).toBe(true);
    });

    it('a failure while half-open re-opens at once, with a fresh probe after the new cool-down', async () => {
      const channel = unique('ch');
      // Listening from the start: in a Cluster, the opening's announcement may still be on its way
      // when a later subscription starts, and would then be taken for the re-opening's.
      const recorder = await record(store);
      for (let i = 0; i < 3; i++) await store.breakerFailure(channel, policy(t));
      expect(await recorder.announced()).toEqual([{ kind: 'breaker', channelId: channel }]);
      expect(await store.breakerTryProbe(channel, t + 1_000, 5_000)).toBe(true);
      expect(await store.breakerFailure(channel, policy(t + 1_200))).toEqual({ openUntil: t + 2_200, failures: 4 });
      expect(await recorder.announced()).toEqual([{ kind: 'breaker', channelId: channel }]);
      expect(await store.breakerTryProbe(channel, t + 2_199, 5_000)).toBe(false);
      expect(await store.breakerTryProbe(channel, t + 2_200, 5_000)).toBe(true);
      expect(await store.breakerTryProbe(channel, t + 2_200, 5_000)).toBe(false);
      await recorder.stop();
    });

    it('a success closes the breaker and announces it; on a closed breaker it resets the count silently', async () => {
      const channel = unique('ch');
      const recorder = await record(store);
      await store.breakerFailure(channel, policy(t));
      await store.breakerFailure(channel, policy(t));
      await store.breakerSuccess(channel);
      expect(await store.getBreaker(channel)).toEqual({ openUntil: 0, failures: 0 });
      // Consecutive failures: the success started the count again.
      expect(await store.breakerFailure(channel, policy(t))).toEqual({ openUntil: 0, failures: 1 });
      expect(await recorder.announced()).toEqual([]);
      await store.breakerFailure(channel, policy(t));
      await store.breakerFailure(channel, policy(t));
      expect(await store.breakerTryProbe(channel, t + 1_000, 5_000)).toBe(true);
      await store.breakerSuccess(channel);
      expect(await store.getBreaker(channel)).toEqual({ openUntil: 0, failures: 0 });
      expect(await store.breakerTryProbe(channel, t + 1_000, 5_000)).toBe(true);
      expect(await recorder.announced()).toEqual([
        { kind: 'breaker', channelId: channel },
        { kind: 'breaker', channelId: channel },
      ]);
      await recorder.stop();
    });

    it('keeps breakers per channel', async () => {
      const a = unique('ch');
      const b = unique('ch');
      for (let i = 0; i < 3; i++) await store.breakerFailure(a, policy(t));
      expect(await store.getBreaker(b)).toEqual({ openUntil: 0, failures: 0 });
      expect(await store.breakerTryProbe(b, t, 5_000)).toBe(true);
      expect(await store.breakerTryProbe(a, t, 5_000)).toBe(false);
    });
  });

  // Real time passes in these (TTL in seconds, as Redis keeps it): they run side by side.
  describe('expiry in real time', () => {
    it.concurrent('expires windows with the TTL set when the counter was created, not extended by later use', async ({ expect }) => {
      const org = await newOrg(1_000n);
      const rpm: CounterCheck = { name: 'rate_limited', counter: 'rpm:w', add: 1, limit: 2, ttlSeconds: 1, release: false };
      const fair = fairUse(100, 1);
      expect(await store.reserve(reservation(org, 'a', 1n, { checks: [rpm, fair] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'rpm:w': 1, 'fair:2026-11': 0 } });
      await store.settle(settlement(org, 'a', 1n, [{ counter: 'fair:2026-11', amount: 100, ttlSeconds: 1 }]));
      expect(await store.reserve(reservation(org, 'b', 1n, { checks: [rpm] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'rpm:w': 2 } });
      expect(await store.reserve(reservation(org, 'c', 1n, { checks: [rpm] }))).toEqual({ ok: false, reason: 'check_failed', check: 'rate_limited' });
      expect(await store.reserve(reservation(org, 'c', 1n, { checks: [fair] }))).toEqual({ ok: false, reason: 'check_failed', check: 'plan_limit' });
      await sleep(500);
      // Use within the window does not move its end.
      await store.settle(settlement(org, 'b', 1n, [{ counter: 'fair:2026-11', amount: 5, ttlSeconds: 1 }]));
      expect(await store.reserve(reservation(org, 'c', 1n, { checks: [fair] }))).toEqual({ ok: false, reason: 'check_failed', check: 'plan_limit' });
      await sleep(700);
      expect(await store.reserve(reservation(org, 'd', 1n, { checks: [rpm, fair] }))).toEqual({ ok: true, available: expect.any(BigInt), counters: { 'rpm:w': 1, 'fair:2026-11': 0 } });
    });

    it.concurrent('affinity remembers a value until its TTL ends', async ({ expect }) => {
      const key = unique('aff');
      expect(await store.getAffinity(key)).toBeNull();
      await store.setAffinity(key, 'ch-1', 300);
      expect(await store.getAffinity(key)).toBe('ch-1');
      await store.setAffinity(key, 'ch-2', 300);
      expect(await store.getAffinity(key)).toBe('ch-2');
      expect(await store.getAffinity(unique('aff'))).toBeNull();
      await sleep(600);
      expect(await store.getAffinity(key)).toBeNull();
    });

    it.concurrent('affinity: setting a value again restarts its TTL', async ({ expect }) => {
      const key = unique('aff');
      await store.setAffinity(key, 'ch-1', 800);
      await sleep(500);
      await store.setAffinity(key, 'ch-1', 800);
      await sleep(500);
      // 1,000 ms after the first set: only the restarted TTL keeps it.
      expect(await store.getAffinity(key)).toBe('ch-1');
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
    const requestIds = (batch: { payload: string }[]): string[] => batch.map((d) => decodeUsageEvent(d.payload).requestId);

    it('delivers each settled event once, in order, until acknowledged, exactly as settled', async () => {
      await drain('c0');
      const org = await newOrg(1_000n);
      for (const id of ['u1', 'u2', 'u3']) await store.settle(settlement(org, id, 1n));
      const first = await store.readUsage('c1', 2, 0);
      expect(requestIds(first)).toEqual(['u1', 'u2']);
      expect(decodeUsageEvent(first[0]!.payload)).toEqual(usageEvent(org, 'u1', 1n));
      const second = await store.readUsage('c2', 10, 0);
      expect(requestIds(second)).toEqual(['u3']);
      expect(await store.readUsage('c1', 10, 0)).toEqual([]);
      await store.ackUsage([...first, ...second].map((d) => d.id));
      expect(await store.claimStaleUsage('c3', 0, 10)).toEqual([]);
    });

    it('appends the event as the caller encoded it when it gives the text, so nothing encodes it twice', async () => {
      await drain('c0');
      const org = await newOrg(1_000n);
      const { event } = settlement(org, 'pre', 1n);
      // Same event, another field order: what the stream holds shows whose encoding it is.
      const { requestId, ...rest } = event;
      const eventText = JSON.stringify({ requestId, ...rest });
      expect(eventText).not.toBe(JSON.stringify(event));
      expect(await store.settle({ event, consumption: [], eventText })).toBe('settled');
      const batch = await store.readUsage('c1', 10, 0);
      expect(batch.map((d) => d.payload)).toEqual([eventText]);
      await store.ackUsage(batch.map((d) => d.id));
    });

    it('appends a repeated settlement once: settling and appending are one atomic step', async () => {
      await drain('c0');
      const org = await newOrg(1_000n);
      expect(await store.settle(settlement(org, 'twice', 1n))).toBe('settled');
      expect(await store.settle(settlement(org, 'twice', 1n))).toBe('already_settled');
      const batch = await store.readUsage('c1', 10, 0);
      expect(requestIds(batch)).toEqual(['twice']);
      await store.ackUsage(batch.map((d) => d.id));
    });

    it('hands events of a consumer that died to another after the idle time', async () => {
      await drain('c0');
      // Start from no pending entries at all, whatever ran before.
      await store.ackUsage((await store.claimStaleUsage('sweeper', 0, 10_000)).map((d) => d.id));
      const org = await newOrg(1_000n);
      await store.settle(settlement(org, 'lost', 1n));
      const taken = await store.readUsage('dead-consumer', 10, 0);
      expect(requestIds(taken)).toEqual(['lost']);
      expect(await store.claimStaleUsage('heir', 60_000, 10)).toEqual([]);
      await sleep(30);
      const claimed = await store.claimStaleUsage('heir', 20, 10);
      expect(claimed).toEqual(taken);
      await store.ackUsage(claimed.map((d) => d.id));
      expect(await store.claimStaleUsage('heir', 0, 10)).toEqual([]);
    });

    it('lists delivered then new entries oldest first, and acknowledging deletes either kind', async () => {
      await drain('c0');
      await store.ackUsage((await store.claimStaleUsage('sweeper', 0, 10_000)).map((d) => d.id));
      const org = await newOrg(1_000n);
      for (const id of ['l1', 'l2', 'l3', 'l4']) await store.settle(settlement(org, id, 1n));
      const delivered = await store.readUsage('lister', 2, 0);
      expect(requestIds(delivered)).toEqual(['l1', 'l2']);
      const listed = await store.unconsumedUsage(100);
      expect(requestIds(listed)).toEqual(['l1', 'l2', 'l3', 'l4']);
      expect(requestIds(await store.unconsumedUsage(3))).toEqual(['l1', 'l2', 'l3']);
      // One delivered and one never delivered: both are gone, the others stay where they were.
      await store.ackUsage([listed[0]!.id, listed[2]!.id]);
      expect(requestIds(await store.unconsumedUsage(100))).toEqual(['l2', 'l4']);
      expect(requestIds(await store.readUsage('lister', 10, 0))).toEqual(['l4']);
      await sleep(30);
      expect(requestIds(await store.claimStaleUsage('heir', 20, 10))).toEqual(['l2', 'l4']);
      await store.ackUsage(listed.map((d) => d.id));
      expect(await store.unconsumedUsage(100)).toEqual([]);
    });

    it('wakes a blocked reader when an event arrives', async () => {
      await drain('c0');
      const org = await newOrg(1_000n);
      const reading = store.readUsage('waiter', 10, 5_000);
      await sleep(50);
      const started = Date.now();
      await store.settle(settlement(org, 'wake', 1n));
      const batch = await reading;
      expect(requestIds(batch)).toEqual(['wake']);
      expect(Date.now() - started).toBeLessThan(4_000);
      await store.ackUsage(batch.map((d) => d.id));
    });

    it('a blocked read with nothing new returns empty after its wait', async () => {
      await drain('c0');
      const started = Date.now();
      expect(await store.readUsage('idle', 10, 100)).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });
  });
});

// Every case above runs against each adapter; this runs random sequences against both side by side
// and requires the same answer at every step.
describe('both adapters answer random reservation sequences identically (property)', () => {
  const stores: StateStore[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    for (const [, make] of storeAdapters) {
      const made = await make();
      stores.push(made.store);
      cleanups.push(made.cleanup);
    }
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  type Op =
    | { kind: 'reserve'; request: number; amount: bigint; overdraft: bigint; cap: number | null; window: number | null; advanceMs: number; lifeMs: number }
    | { kind: 'settle'; request: number; cost: bigint; consumed: number }
    | { kind: 'credit'; entry: number; amount: bigint };

  // Amounts in steps of 50 so that sequences often land exactly on a limit.
  const steps = (max: number) => fc.integer({ min: 0, max }).map((n) => n * 50);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('reserve' as const),
      request: fc.nat(6),
      amount: steps(8).map(BigInt),
      overdraft: fc.constantFrom(0n, 0n, 50n, 2n ** 60n),
      cap: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      window: fc.option(steps(6), { nil: null }),
      advanceMs: fc.constantFrom(0, 0, 5, 30),
      lifeMs: fc.constantFrom(10, 60_000),
    }),
    fc.record({ kind: fc.constant('settle' as const), request: fc.nat(6), cost: steps(6).map(BigInt), consumed: steps(3) }),
    fc.record({ kind: fc.constant('credit' as const), entry: fc.nat(3), amount: steps(10).map((n) => BigInt(n - 200)) }),
  );

  it('same outcome, balance and counters after every step', async () => {
    await fc.assert(
      fc.asyncProperty(steps(20).map(BigInt), fc.array(op, { minLength: 1, maxLength: 25 }), async (seed, ops) => {
        const org = unique('org-prop');
        let now = Date.now();
        const transcript = async (store: StateStore): Promise<unknown[]> => {
          const out: unknown[] = [await store.seedBalance(org, seed)];
          let clock = now;
          for (const o of ops) {
            if (o.kind === 'reserve') {
              clock += o.advanceMs;
              const checks: CounterCheck[] = [];
              if (o.cap !== null) checks.push(concurrency(o.cap));
              if (o.window !== null) checks.push(fairUse(o.window, null));
              out.push(await store.reserve({ ...reservation(org, `r${o.request}`, o.amount), overdraft: o.overdraft, checks, nowMs: clock, deadlineMs: clock + o.lifeMs }));
            } else if (o.kind === 'settle') {
              out.push(await store.settle(settlement(org, `r${o.request}`, o.cost, [{ counter: 'fair:2026-11', amount: o.consumed, ttlSeconds: null }])));
            } else {
              out.push(await store.applyCredit(org, `e${o.entry}`, o.amount));
            }
            out.push(await store.getBalance(org));
          }
          return out;
        };
        const [memory, redis] = [await transcript(stores[0]!), await transcript(stores[1]!)];
        now += 1;
        expect(redis).toEqual(memory);
      }),
      { numRuns: 60 },
    );
  });
});
