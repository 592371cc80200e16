import { randomUUID } from 'node:crypto';
import { type LogFields, type Logger, type StateStore, type UsageEvent } from '@tollgate/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeAdapters } from '../../../test/support/stores.ts';
import { ledgerEntries, usageRecords } from '../db/schema/index.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { ledgerBalance } from './ledger.ts';
import { UsageConsumer } from './usage-consumer.ts';

function captureLogger(lines: string[]): Logger {
  const log = (message: string, fields?: LogFields) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(storeAdapters)('usage consumer over the %s store', (_name, make) => {
  let h: Harness;
  let cleanupStore: () => Promise<void>;
  let orgId: string;
  let keyId: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const made = await make();
    cleanupStore = made.cleanup;
    h = await createHarness({ store: made.store });
    orgId = (await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Metered' })).data.id;
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'start', idempotencyKey: `start-${orgId}` });
    keyId = (await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'apiKey { id }', { orgId, name: 'k' })).data.apiKey.id;
  });
  afterAll(async () => {
    await h?.cleanup();
    await cleanupStore?.();
  });

  const event = (cost: bigint, overrides: Partial<UsageEvent> = {}): UsageEvent => ({
    v: 1, requestId: `req_${randomUUID()}`, orgId, keyId, model: 'gpt-4o-mini', tier: 'resale',
    channelId: randomUUID(), upstreamModel: 'gpt-4o-mini-2024', stream: false, inputTokens: 1234, outputTokens: 567,
    usageSource: 'reported', cost: cost.toString(), startedAt: Date.now() - 50, latencyMs: 42, status: 'ok', httpStatus: 200,
    ...overrides,
  });

  it('writes usage records and ledger debits to the nanocredit, and a replay adds nothing', async () => {
    const events = [event(712_346n), event(1n, { stream: true, usageSource: 'estimated' }), event(0n, { status: 'upstream_error', httpStatus: 502 })];
    for (const e of events) await h.store.settle(e);
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-a' });
    consumer.start();
    try {
      await until(async () => (await h.database.db.select().from(usageRecords).where(eq(usageRecords.orgId, orgId))).length === 3);
      await until(async () => (await ledgerBalance(h.database.db, orgId)) === 1_000_000_000n - 712_347n);
      const record = await h.database.db.query.usageRecords.findFirst({ where: { requestId: events[0]!.requestId } });
      expect(record).toMatchObject({ apiKeyId: keyId, model: 'gpt-4o-mini', tier: 'resale', inputTokens: 1234, outputTokens: 567, cost: 712_346n, usageSource: 'reported', status: 'ok', httpStatus: 200, latencyMs: 42, stream: false });
      const debits = await h.database.db.query.ledgerEntries.findMany({ where: { orgId, kind: 'usage' } });
      expect(debits.map((d) => d.amount).sort((a, b) => (a < b ? -1 : 1))).toEqual([-712_346n, -1n]);
      expect(debits.find((d) => d.amount === -1n)).toMatchObject({ requestId: events[1]!.requestId, idempotencyKey: `usage:${events[1]!.requestId}` });

      // Replay: the data plane settles the same requests again (each appends its event once more).
      for (const e of events) await h.store.settle(e);
      await consumer.close();
      consumer.start();
      await new Promise((r) => setTimeout(r, 300));
      await until(async () => (await h.store.readUsage('probe', 10, 1)).length === 0);
    } finally {
      await consumer.close();
    }
    expect(await h.database.db.select().from(usageRecords).where(eq(usageRecords.orgId, orgId))).toHaveLength(3);
    expect(await h.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.orgId, orgId))).toHaveLength(3);
    expect(await ledgerBalance(h.database.db, orgId)).toBe(1_000_000_000n - 712_347n);
    const gql = await h.gql(`query($id: String!) { usageRecord(requestId: $id) { cost costNanocredits } }`, { id: events[0]!.requestId });
    expect(gql.data?.usageRecord).toEqual({ cost: '0.000712346', costNanocredits: '712346' });
  });

  it('acknowledges and logs an undecodable payload without its content', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-b' });
    await consumer.process([{ id: '1-0', payload: '{"v":2,"secret":"tg_should_not_be_logged"}' }]);
    expect(logs.some((l) => l.startsWith('dropping an undecodable usage event'))).toBe(true);
    expect(logs.join('\n')).not.toContain('tg_should_not_be_logged');
  });

  it('lists an org\'s usage newest first as a connection', async () => {
    const r = await h.gql(`query($id: ID!) { usageRecords(orgId: $id, first: 2) { edges { cursor node { requestId createdAt } } pageInfo { hasNextPage endCursor } } }`, { id: orgId });
    expect(r.errors).toBeUndefined();
    const page = r.data!.usageRecords;
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = await h.gql(`query($id: ID!, $after: String) { usageRecords(orgId: $id, first: 2, after: $after) { edges { node { requestId } } pageInfo { hasNextPage } } }`, { id: orgId, after: page.pageInfo.endCursor });
    expect(next.data!.usageRecords.edges).toHaveLength(1);
    const all = [...page.edges.map((e: any) => e.node.requestId), next.data!.usageRecords.edges[0].node.requestId];
    expect(new Set(all).size).toBe(3);
    const nested = await h.gql(`query($id: ID!) { org(id: $id) { usageRecords(first: 5) { edges { node { requestId } } } } }`, { id: orgId });
    expect(nested.data!.org.usageRecords.edges).toHaveLength(3);
  });

  it('writes what is left in the stream when it closes, so a shutdown loses no debit', async () => {
    const before = await ledgerBalance(h.database.db, orgId);
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-close' });
    consumer.start();
    await new Promise((r) => setTimeout(r, 50));
    const late = event(5n);
    await h.store.settle(late);
    await consumer.close();
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: late.requestId } })).toBeDefined();
    expect(await ledgerBalance(h.database.db, orgId)).toBe(before - 5n);
    expect(await h.store.readUsage('probe-close', 10, 0)).toEqual([]);
  });

  it('tells in-process callers when a request was consumed', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-wait' });
    consumer.start();
    try {
      const e = event(3n);
      const waiting = consumer.whenConsumed(e.requestId);
      await h.store.settle(e);
      await waiting;
      expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: e.requestId } })).toMatchObject({ cost: 3n });
      await consumer.whenConsumed(e.requestId, 100); // already consumed: at once
      await expect(consumer.whenConsumed('req_never', 100)).rejects.toThrow(/not consumed/);
    } finally {
      await consumer.close();
    }
  });

  it('writes the rest of a batch when the database refuses one event, and drops that one', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-refused' });
    const good = event(4n);
    const orphan = event(9n, { orgId: randomUUID() }); // an org the database does not know
    const seen: string[] = [];
    consumer.onConsumed((ids) => seen.push(...ids));
    await consumer.process([
      { id: '1-1', payload: JSON.stringify(good) },
      { id: '1-2', payload: JSON.stringify(orphan) },
    ]);
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: good.requestId } })).toBeDefined();
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: orphan.requestId } })).toBeUndefined();
    expect(seen).toEqual([good.requestId]);
    expect(logs.some((l) => l.startsWith('usage event refused by the database'))).toBe(true);
  });
});
