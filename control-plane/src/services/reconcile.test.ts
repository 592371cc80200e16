import { randomUUID } from 'node:crypto';
import { orgKeys, RedisStateStore, spendCounters, usage, type RedisStoreOptions, type UsageEvent } from '@tollgate/shared';
import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis } from '../../../test/support/services.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { orgAlerts, orgs, usageDeadLetters } from '../db/schema/index.ts';
import { memberWithToken } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { ledgerBalance, ledgerSum } from './ledger.ts';
import { keyRecord } from './publisher.ts';
import { reconcile } from './reconcile.ts';
import { UsageConsumer } from './usage-consumer.ts';

const CREDIT = 1_000_000_000n;

/** An org of its own, credited, with one key. */
async function orgWithKey(h: Harness, credits = '1'): Promise<{ orgId: string; keyId: string }> {
  const orgId = (await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: `R-${randomUUID()}` })).data.id as string;
  await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: credits, reason: 'start', idempotencyKey: `start-${orgId}` });
  const keyId = (await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'apiKey { id }', { orgId, name: 'k' })).data.apiKey.id as string;
  return { orgId, keyId };
}

const event = (orgId: string, keyId: string, cost: bigint): UsageEvent => ({
  v: 2, requestId: `req_${randomUUID()}`, clientRequestId: null, orgId, keyId, model: 'm', tier: 'resale', lane: null, provider: 'openai',
  channelId: null, byokCredentialId: null, upstreamModel: 'u', endpoint: 'chat', stream: false, usage: usage({ input: 1 }), usageSource: 'reported',
  chargeKind: 'usage', cost: cost.toString(), providerCost: '0', hold: cost.toString(), overHold: false, attempts: [], startedAt: Date.now(),
  latencyMs: 1, status: 'ok', httpStatus: 200, errorCode: null,
});

/**
 * A harness over a throwaway Redis of the suite's own (the store watch runs only when a test calls
 * it), and a plain connection to that Redis; set once the suite's beforeAll has run.
 */
function redisSuite(options: RedisStoreOptions = {}): { h: Harness; raw: Redis } {
  const suite = {} as { h: Harness; raw: Redis };
  let redis: Awaited<ReturnType<typeof createTestRedis>> | undefined;
  beforeAll(async () => {
    redis = await createTestRedis();
    suite.raw = new Redis(redis.url);
    suite.h = await createHarness({ store: new RedisStateStore(redis.url, options), storeWatch: { intervalMs: 3_600_000 } });
  });
  afterAll(async () => {
    suite.raw?.disconnect();
    await suite.h?.cleanup();
    await suite.h?.store.close();
    await redis?.cleanup();
  });
  return suite;
}

describe.each(storeAdapters)('balances, alerts and reconcile over the %s store', (_name, make) => {
  let h: Harness;
  let cleanupStore: () => Promise<void>;
  let consumer: UsageConsumer;

  beforeAll(async () => {
    const made = await make();
    cleanupStore = made.cleanup;
    h = await createHarness({ store: made.store });
    consumer = new UsageConsumer({ db: h.database.db, store: h.store, consumerName: `reconcile-${randomUUID()}` });
  });
  afterAll(async () => {
    await h?.cleanup();
    await cleanupStore?.();
  });

  const newOrg = (credits = '1') => orgWithKey(h, credits);

  /** Settles like a data plane, then consumes everything in the stream. */
  async function spend(orgId: string, keyId: string, ...costs: bigint[]): Promise<void> {
    for (const cost of costs) await h.store.settle({ event: event(orgId, keyId, cost), consumption: [] });
    await consumer.close();
  }

  const driftOf = async (orgId: string) => (await reconcile(h.database.db, h.store)).orgs.filter((o) => o.orgId === orgId);

  it('keeps the balance row equal to the ledger, in the same transaction as every entry', async () => {
    const { orgId, keyId } = await newOrg('2');
    await spend(orgId, keyId, 5n, 7n);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '-0.5', reason: 'fix', idempotencyKey: `fix-${orgId}` });
    expect(await ledgerBalance(h.database.db, orgId)).toBe(2n * CREDIT - 12n - CREDIT / 2n);
    expect(await ledgerSum(h.database.db, orgId)).toBe(2n * CREDIT - 12n - CREDIT / 2n);
    const gql = await h.gql(`query($id: ID!) { org(id: $id) { balance } }`, { id: orgId });
    expect(gql.data?.org.balance).toBe('1.499999988');
  });

  it('writes one low-balance alert per downward crossing of the threshold', async () => {
    const { orgId, keyId } = await newOrg('1');
    await h.database.db.update(orgs).set({ lowBalanceThreshold: CREDIT / 2n }).where(eq(orgs.id, orgId));
    await spend(orgId, keyId, CREDIT / 4n); // 0.75: above
    await spend(orgId, keyId, CREDIT / 4n + 1n); // just below 0.5: the crossing
    await spend(orgId, keyId, 1n, 1n); // further below: no new alert
    const alertsOf = () => h.database.db.select({ balance: orgAlerts.balance, threshold: orgAlerts.threshold, kind: orgAlerts.kind }).from(orgAlerts).where(eq(orgAlerts.orgId, orgId));
    expect(await alertsOf()).toEqual([{ kind: 'low_balance', balance: CREDIT / 2n - 1n, threshold: CREDIT / 2n }]);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'top-up', idempotencyKey: `top-${orgId}` });
    await spend(orgId, keyId, CREDIT); // back below: a second crossing
    expect(await alertsOf()).toHaveLength(2);
  });

  it('reports no drift when the store, the stream and the ledger agree, unconsumed and dead-lettered events included', async () => {
    const { orgId, keyId } = await newOrg('1');
    await spend(orgId, keyId, 11n);
    // Settled, not consumed yet: debited in the store only.
    await h.store.settle({ event: event(orgId, keyId, 13n), consumption: [] });
    // Debited in the store, then refused by the database: the consumer kept it as a dead letter.
    await h.store.adjustBalance(orgId, -17n);
    await h.database.db.insert(usageDeadLetters).values({ streamId: `test-${randomUUID()}`, requestId: `req_${randomUUID()}`, orgId, cost: 17n, storeDebited: 'true', payload: '{}', error: 'test' });
    const report = await reconcile(h.database.db, h.store);
    expect([report.orgs.filter((o) => o.orgId === orgId), report.deadLetters]).toEqual([[], { count: 1, cost: 17n }]);
    await consumer.close();
    expect(await driftOf(orgId)).toEqual([]);
  });

  it('finds a tampered store balance and a tampered balance row, and repairs both from the ledger', async () => {
    const { orgId, keyId } = await newOrg('1');
    await spend(orgId, keyId, 3n);
    await h.store.adjustBalance(orgId, 500n);
    await h.database.db.execute(sql`update org_balances set balance = balance + 7 where org_id = ${orgId}`);
    const [found] = await driftOf(orgId);
    expect([found!.drift, found!.rowDrift, found!.ledger, found!.store]).toEqual([500n, 7n, CREDIT - 3n, CREDIT - 3n + 500n]);
    const repaired = await reconcile(h.database.db, h.store, { repair: true });
    expect(repaired.repaired).toBe(true);
    expect(await driftOf(orgId)).toEqual([]);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: CREDIT - 3n, held: 0n });
    expect(await ledgerBalance(h.database.db, orgId)).toBe(CREDIT - 3n);
  });

  it('checks a member\'s allowance counter once, counting the unconsumed events of every key of theirs', async () => {
    const { orgId } = await newOrg('1');
    const member = await memberWithToken(h, orgId, 'developer');
    const keyIds: string[] = [];
    for (const name of ['a', 'b']) keyIds.push((await mutate(h.as(member.token), 'createApiKey', 'CreateApiKeyInput', 'apiKey { id }', { orgId, name })).data.apiKey.id);
    await mutate(h, 'setMemberAllowance', 'SetMemberAllowanceInput', 'id', { id: member.memberId, monthlyAllowance: '1' });
    const key = (await h.database.db.query.apiKeys.findFirst({ where: { id: keyIds[0]! }, with: { org: true, member: true } }))!;
    const allowance = spendCounters(keyRecord(key, key.org, key.member), Date.now()).find((c) => c.scope === 'member')!;
    const ofOrg = async () => (await reconcile(h.database.db, h.store)).counters.filter((c) => c.orgId === orgId);
    // Settled by a data plane, which filled the member's counter; not consumed yet.
    for (const [i, cost] of [[0, 5n], [1, 7n]] as const) {
      await h.store.settle({ event: event(orgId, keyIds[i]!, cost), consumption: [{ counter: allowance.counter, amount: Number(cost), ttlSeconds: allowance.ttlSeconds }] });
    }
    expect(await ofOrg()).toEqual([]);
    await consumer.close();
    expect(await ofOrg()).toEqual([]);
    await h.store.seedCounters(orgId, [{ counter: allowance.counter, value: 1, ttlSeconds: null }], 'set');
    expect(await ofOrg()).toEqual([{ orgId, keyId: [...keyIds].sort()[0], counter: allowance.counter, expected: 12, actual: 1, ttlSeconds: expect.any(Number) }]);
    await reconcile(h.database.db, h.store, { repair: true });
    expect(await ofOrg()).toEqual([]);
  });
});

describe('the control plane after Redis lost its data', () => {
  const suite = redisSuite();

  it('notices by itself, republishes keys and balances from the ledger, then the epoch; usage settled meanwhile is debited once', async () => {
    const { h, raw } = suite;
    const { orgId, keyId } = await orgWithKey(h);
    const watch = h.controlPlane.storeWatch;
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, consumerName: 'wiped' });

    await raw.flushall();
    // A request in flight at the wipe settles now: no balance to debit, the event says so.
    await h.store.settle({ event: event(orgId, keyId, 40n), consumption: [] });
    expect(await h.store.getEpoch()).toBeNull();
    await watch.check();
    expect(watch.recoveries).toBe(1);
    expect(await h.store.getEpoch()).not.toBeNull();
    expect(await h.store.getBalance(orgId)).toEqual({ balance: CREDIT, held: 0n });
    const hash = (await h.database.db.query.apiKeys.findFirst({ where: { id: keyId } }))!.keyHash;
    expect((await h.store.getKeyRecord(hash))?.id).toBe(keyId);
    // The consumer recreates its group, writes the in-flight event, and debits the store once.
    await consumer.close();
    expect(await h.store.getBalance(orgId)).toEqual({ balance: CREDIT - 40n, held: 0n });
    expect(await ledgerBalance(h.database.db, orgId)).toBe(CREDIT - 40n);
    await watch.check();
    expect(watch.recoveries).toBe(1);
    expect((await reconcile(h.database.db, h.store)).orgs).toEqual([]);
  });
});

describe('a settlement later than the settled marker\'s life', () => {
  // Markers that live one second (TOLLGATE_SETTLED_MARKER_HOURS takes whole hours; the store takes seconds).
  const suite = redisSuite({ settledMarkerSeconds: 1 });

  it('debits the live balance a second time, never the ledger; reconcile reports exactly that and repairs it', async () => {
    const { h, raw } = suite;
    const { orgId, keyId } = await orgWithKey(h);
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, consumerName: `late-${randomUUID()}` });
    // The orphan: its input estimate, under a hold of 100.
    const base: UsageEvent = { ...event(orgId, keyId, 30n), usage: usage({ input: 100 }), usageSource: 'estimated', hold: '100', status: 'orphaned' };
    const { requestId } = base;
    // A data plane admits the request, then is cut off from Redis; another settles it as an orphan.
    const cutOff = `dp-cut-off-${randomUUID()}`;
    const now = Date.now();
    expect(await h.store.reserve({ orgId, requestId, instance: cutOff, orphan: base, amount: 100n, overdraft: 0n, checks: [], nowMs: now, deadlineMs: now + 60_000 })).toMatchObject({ ok: true });
    expect(await h.store.settleOrphans(cutOff, 60_000)).toBe(1);
    await consumer.close();
    const late = { event: { ...base, usage: usage({ input: 100, output: 50 }), usageSource: 'reported' as const, cost: '45', status: 'ok' as const }, consumption: [] };
    // Back within the marker's life: its settlement changes nothing.
    expect(await h.store.settle(late)).toBe('already_settled');
    const marker = orgKeys(orgId).settled(requestId);
    for (const stop = Date.now() + 5_000; (await raw.exists(marker)) === 1 && Date.now() < stop; ) await new Promise((r) => setTimeout(r, 50));
    expect(await raw.exists(marker)).toBe(0);

    // Back after it: the live balance is debited again; the consumer writes nothing new.
    expect(await h.store.settle(late)).toBe('settled');
    await consumer.close();
    expect(await h.store.getBalance(orgId)).toEqual({ balance: CREDIT - 30n - 45n, held: 0n });
    expect(await ledgerBalance(h.database.db, orgId)).toBe(CREDIT - 30n);
    const records = await h.database.db.query.usageRecords.findMany({ columns: { cost: true, status: true }, where: { requestId } });
    expect(records).toEqual([{ cost: 30n, status: 'orphaned' }]);

    const [found] = (await reconcile(h.database.db, h.store)).orgs.filter((o) => o.orgId === orgId);
    expect([found!.drift, found!.ledger, found!.store]).toEqual([-45n, CREDIT - 30n, CREDIT - 75n]);
    expect((await reconcile(h.database.db, h.store, { repair: true })).repaired).toBe(true);
    expect((await reconcile(h.database.db, h.store)).orgs.filter((o) => o.orgId === orgId)).toEqual([]);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: CREDIT - 30n, held: 0n });
  });
});
