import { randomUUID } from 'node:crypto';
import { usage, type LogFields, type Logger, type StateStore, type UsageEvent } from '@tollgate/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteStoreAdapter, storeAdapters } from '../../../test/support/stores.ts';
import { ledgerEntries, orgs, usageDeadLetters, usageRecords } from '../db/schema/index.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { seedStoreBalance } from './balances.ts';
import { ledgerBalance } from './ledger.ts';
import { BATCH, UsageConsumer } from './usage-consumer.ts';

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

// Also over the in-process store reached through a message port, as embedded mode's worker reaches it.
describe.each([...storeAdapters, remoteStoreAdapter])('usage consumer over the %s store', (_name, make) => {
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
    v: 2, requestId: `req_${randomUUID()}`, clientRequestId: null, orgId, keyId, model: 'gpt-4o-mini', tier: 'resale', lane: null, provider: 'openai',
    channelId: randomUUID(), byokCredentialId: null, upstreamModel: 'gpt-4o-mini-2024', endpoint: '/v1/chat/completions', stream: false,
    usage: usage({ input: 1234, output: 567 }), usageSource: 'reported', chargeKind: 'usage', cost: cost.toString(), providerCost: '0',
    hold: (cost * 2n).toString(), overHold: false, attempts: [], startedAt: Date.now() - 50, latencyMs: 42, status: 'ok', httpStatus: 200,
    errorCode: null,
    ...overrides,
  });
  const settle = (e: UsageEvent) => h.store.settle({ event: e, consumption: [] });

  /** The batches a consumer wrote, narrowed to the given events (the stream is shared by the tests). */
  const ofEvents = (batches: string[][], events: UsageEvent[]): string[][] => {
    const wanted = new Set(events.map((e) => e.requestId));
    return batches.map((batch) => batch.filter((id) => wanted.has(id))).filter((batch) => batch.length > 0);
  };

  /** An org of the test's own with 1 credit and a key, so no test counts another's records. */
  async function ownOrg(): Promise<{ orgId: string; keyId: string }> {
    const id = (await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: `Metered-${randomUUID()}` })).data.id as string;
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId: id, amount: '1', reason: 'start', idempotencyKey: `start-${id}` });
    const key = (await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'apiKey { id }', { orgId: id, name: 'k' })).data.apiKey.id as string;
    return { orgId: id, keyId: key };
  }

  it('writes usage records and ledger debits to the nanocredit, and a replay adds nothing', async () => {
    const { orgId, keyId } = await ownOrg();
    const events = [
      event(712_346n, { orgId, keyId }),
      event(1n, { orgId, keyId, stream: true, usageSource: 'estimated' }),
      event(0n, { orgId, keyId, status: 'upstream_error', httpStatus: 502 }),
    ];
    for (const e of events) await settle(e);
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-a' });
    consumer.start();
    try {
      await until(async () => (await h.database.db.select().from(usageRecords).where(eq(usageRecords.orgId, orgId))).length === 3);
      await until(async () => (await ledgerBalance(h.database.db, orgId)) === 1_000_000_000n - 712_347n);
      const record = await h.database.db.query.usageRecords.findFirst({ where: { requestId: events[0]!.requestId } });
      expect(record).toMatchObject({ apiKeyId: keyId, model: 'gpt-4o-mini', tier: 'resale', inputTokens: 1234, outputTokens: 567, cachedInputTokens: 0, cost: 712_346n, chargeKind: 'usage', usageSource: 'reported', status: 'ok', httpStatus: 200, latencyMs: 42, stream: false });
      const debits = await h.database.db.query.ledgerEntries.findMany({ where: { orgId, kind: 'usage' } });
      expect(debits.map((d) => d.amount).sort((a, b) => (a < b ? -1 : 1))).toEqual([-712_346n, -1n]);
      expect(debits.find((d) => d.amount === -1n)).toMatchObject({ requestId: events[1]!.requestId, idempotencyKey: `usage:${events[1]!.requestId}` });

      // Replay: the data plane settles the same requests again (each appends its event once more).
      for (const e of events) await settle(e);
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

  it('keeps an undecodable payload whole in the dead-letter table, acknowledges it, and logs it without its content', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-b' });
    const payload = '{"v":2,"secret":"tg_should_not_be_logged","requestId":"req_bad","cost":"12"}';
    await consumer.process([{ id: '1-0', payload, storeDebited: true }]);
    const [letter] = await h.database.db.select().from(usageDeadLetters).where(eq(usageDeadLetters.streamId, '1-0'));
    expect([letter!.payload, letter!.requestId, letter!.cost, letter!.storeDebited, letter!.resolvedAt]).toEqual([payload, 'req_bad', 12n, 'true', null]);
    expect(letter!.error).toMatch(/^unsupported usage event: bad orgId, keyId, model, tier, /);
    expect(logs.filter((l) => l.startsWith('usage event kept in the dead-letter table'))).toHaveLength(1);
    expect(logs.join('\n')).not.toContain('tg_should_not_be_logged');
  });

  it('lists an org\'s usage newest first as a connection', async () => {
    const { orgId, keyId } = await ownOrg();
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-list' });
    await consumer.process([1, 2, 3].map((i) => ({ id: `9-${i}`, payload: JSON.stringify(event(BigInt(i), { orgId, keyId })), storeDebited: true })));
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
    await settle(late);
    await consumer.close();
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: late.requestId } })).toBeDefined();
    expect(await ledgerBalance(h.database.db, orgId)).toBe(before - 5n);
    expect(await h.store.readUsage('probe-close', 10, 0)).toEqual([]);
  });

  it('gathers a trickle of events into one batch during its pause, and writes them at close without waiting the pause out', async () => {
    const { orgId, keyId } = await ownOrg();
    // A pause far longer than the test: events after the first wait for close().
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-gather', gatherMs: 600_000 });
    const batches: string[][] = [];
    consumer.onConsumed((ids) => batches.push(ids));
    consumer.start();
    const first = event(2n, { orgId, keyId });
    const trickle = [event(3n, { orgId, keyId }), event(5n, { orgId, keyId }), event(7n, { orgId, keyId })];
    try {
      // After a quiet spell an event is written at once.
      await settle(first);
      await consumer.whenConsumed(first.requestId);
      for (const e of trickle) {
        await settle(e);
        await new Promise((r) => setTimeout(r, 30));
      }
      // A consumer that did not pause would have written each of them by now.
      await new Promise((r) => setTimeout(r, 300));
      expect(await h.database.db.select().from(usageRecords).where(eq(usageRecords.orgId, orgId))).toHaveLength(1);
    } finally {
      await consumer.close();
    }
    const ids = (list: UsageEvent[]) => list.map((e) => e.requestId).sort();
    expect(ofEvents(batches, [first, ...trickle]).map((batch) => batch.sort())).toEqual([ids([first]), ids(trickle)]);
    expect(await ledgerBalance(h.database.db, orgId)).toBe(1_000_000_000n - 17n);
  });

  it('does not pause after a full read: the next event is written at once', async () => {
    const { orgId, keyId } = await ownOrg();
    const backlog = Array.from({ length: BATCH }, () => event(1n, { orgId, keyId }));
    for (const e of backlog) await settle(e);
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-no-gather', gatherMs: 600_000 });
    const batches: string[][] = [];
    consumer.onConsumed((ids) => batches.push(ids));
    consumer.start();
    try {
      await until(async () => ofEvents(batches, backlog).length === 1);
      const next = event(2n, { orgId, keyId });
      await settle(next);
      // Within until's 10 s: a pause would hold it for ten minutes.
      await until(async () => ofEvents(batches, [next]).length === 1);
      expect(ofEvents(batches, [...backlog, next]).map((batch) => batch.length)).toEqual([BATCH, 1]);
    } finally {
      await consumer.close();
    }
    expect(await ledgerBalance(h.database.db, orgId)).toBe(1_000_000_000n - BigInt(BATCH) - 2n);
  });

  it('tells in-process callers when a request was consumed', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-wait' });
    consumer.start();
    try {
      const e = event(3n);
      const waiting = consumer.whenConsumed(e.requestId);
      await settle(e);
      await waiting;
      expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: e.requestId } })).toMatchObject({ cost: 3n });
      await consumer.whenConsumed(e.requestId, 100); // already consumed: at once
      await expect(consumer.whenConsumed('req_never', 100)).rejects.toThrow(/not consumed/);
    } finally {
      await consumer.close();
    }
  });

  it('writes the rest of a batch when the database refuses one event, and keeps that one in the dead-letter table', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-refused' });
    const good = event(4n);
    const stranger = randomUUID();
    const orphan = event(9n, { orgId: stranger }); // an org the database does not know
    const seen: string[] = [];
    consumer.onConsumed((ids) => seen.push(...ids));
    await consumer.process([
      { id: '1-1', payload: JSON.stringify(good), storeDebited: true },
      { id: '1-2', payload: JSON.stringify(orphan), storeDebited: true },
    ]);
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: good.requestId } })).toBeDefined();
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: orphan.requestId } })).toBeUndefined();
    expect(seen).toEqual([good.requestId]);
    const letters = await h.database.db.select().from(usageDeadLetters).where(eq(usageDeadLetters.streamId, '1-2'));
    expect(letters.map((l) => [l.requestId, l.orgId, l.cost, l.payload, l.error])).toEqual([
      [orphan.requestId, stranger, 9n, JSON.stringify(orphan), 'refused by the database (SQLSTATE 23503, usage_records_org_id_orgs_id_fkey)'],
    ]);
    // Processing the same entries again (a replay) adds nothing anywhere.
    await consumer.process([{ id: '1-2', payload: JSON.stringify(orphan), storeDebited: true }]);
    expect(await h.database.db.select().from(usageDeadLetters).where(eq(usageDeadLetters.requestId, orphan.requestId))).toHaveLength(1);
  });

  it('debits the store once for an event settled while it held no balance, and the seed covers what it could not', async () => {
    const { orgId: own, keyId: ownKey } = await ownOrg();
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-undebited' });
    const start = (await h.store.getBalance(own))!.balance;
    const late = event(70n, { orgId: own, keyId: ownKey });
    // As settled after a wipe had removed the balance: the store did not debit it.
    await consumer.process([{ id: '4-1', payload: JSON.stringify(late), storeDebited: false }]);
    expect((await h.store.getBalance(own))!.balance).toBe(start - 70n);
    expect(await h.database.db.query.usageRecords.findFirst({ columns: { storeDebited: true }, where: { requestId: late.requestId } })).toEqual({ storeDebited: true });
    // Delivered again (a claim after a crash before the acknowledgement): no second debit.
    await consumer.process([{ id: '4-1', payload: JSON.stringify(late), storeDebited: false }]);
    expect((await h.store.getBalance(own))!.balance).toBe(start - 70n);
    expect(await ledgerBalance(h.database.db, own)).toBe(start - 70n);
  });

  it('leaves the debit to the seed when the store holds no balance at all, and the seed applies it once', async () => {
    const { orgId: own, keyId: ownKey } = await ownOrg();
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-unseeded' });
    // An org whose balance the store lost: consumed while there is none, the record stays undebited.
    const other = randomUUID();
    await h.database.db.insert(orgs).values({ id: other, name: 'Lost', slug: `lost-${other}` });
    await h.database.db.insert(ledgerEntries).values({ orgId: other, amount: 1_000n, kind: 'adjustment', reason: 'start', idempotencyKey: `lost-${other}` });
    const e = event(30n, { orgId: other, keyId: ownKey });
    await consumer.process([{ id: '5-1', payload: JSON.stringify(e), storeDebited: false }]);
    expect(await h.store.getBalance(other)).toBeNull();
    expect(await h.database.db.query.usageRecords.findFirst({ columns: { storeDebited: true }, where: { requestId: e.requestId } })).toEqual({ storeDebited: false });
    expect(await seedStoreBalance(h.database.db, h.store, other)).toBe(true);
    expect(await h.store.getBalance(other)).toEqual({ balance: 970n, held: 0n });
    expect(await h.database.db.query.usageRecords.findFirst({ columns: { storeDebited: true }, where: { requestId: e.requestId } })).toEqual({ storeDebited: true });
    // Neither the consumer's debit of a replay nor a second seed debits it again.
    await consumer.process([{ id: '5-1', payload: JSON.stringify(e), storeDebited: false }]);
    expect(await seedStoreBalance(h.database.db, h.store, other)).toBe(false);
    expect(await h.store.getBalance(other)).toEqual({ balance: 970n, held: 0n });
    expect(own).not.toBe(other);
  });

  it('takes over, while running, events another consumer took and never acknowledged', async () => {
    const { orgId: own, keyId: ownKey } = await ownOrg();
    const running = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-survivor', claimIdleMs: 300 });
    running.start();
    try {
      // Let the survivor pass its first claim, then a consumer takes two events and dies.
      await new Promise((r) => setTimeout(r, 100));
      const lost = [event(2n, { orgId: own, keyId: ownKey }), event(3n, { orgId: own, keyId: ownKey })];
      await running.close();
      for (const e of lost) await settle(e);
      const taken = await h.store.readUsage('test-dead', 100, 0);
      expect(taken.map((d) => JSON.parse(d.payload).requestId)).toEqual(lost.map((e) => e.requestId));
      running.start();
      await until(async () => (await h.database.db.query.usageRecords.findMany({ where: { orgId: own } })).length === 2, 5_000);
      expect(await h.store.unconsumedUsage(100)).toEqual([]);
    } finally {
      await running.close();
    }
  });

  it('writes every v2 column, and token counts past 32 bits exactly', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-v2' });
    const attempts = [
      { channelId: randomUUID(), provider: 'groq', upstreamModel: 'llama', outcome: 'failed' as const, status: 503, errorClass: 'status', message: 'HTTP 503: overloaded', latencyMs: 12 },
      { channelId: randomUUID(), provider: 'openai', upstreamModel: 'gpt-x', outcome: 'ok' as const, status: 200, errorClass: null, message: null, latencyMs: 80 },
    ];
    const big = event(3_000_000_000_123n, {
      usage: { input: 3_000_000_000, cachedInput: 4_000_000_001, cacheWrite: 5_000_000_002, output: 6_000_000_003, reasoning: 1_000_000_000_000 },
      lane: 'continuation', endpoint: '/v1/responses', providerCost: '2000000000000', hold: '3000000000123', overHold: true,
      attempts, status: 'cut_at_hold', httpStatus: 200, errorCode: null, clientRequestId: 'client-correlation-1',
    });
    await consumer.process([{ id: '2-1', payload: JSON.stringify(big), storeDebited: true }]);
    const record = await h.database.db.query.usageRecords.findFirst({ where: { requestId: big.requestId } });
    expect(record).toMatchObject({
      inputTokens: 3_000_000_000, cachedInputTokens: 4_000_000_001, cacheWriteTokens: 5_000_000_002, outputTokens: 6_000_000_003,
      reasoningTokens: 1_000_000_000_000, lane: 'continuation', provider: 'openai', endpoint: '/v1/responses', clientRequestId: 'client-correlation-1', cost: 3_000_000_000_123n,
      providerCost: 2_000_000_000_000n, hold: 3_000_000_000_123n, overHold: true, attempts, status: 'cut_at_hold', errorCode: null,
    });
    const entry = await h.database.db.query.ledgerEntries.findFirst({ where: { requestId: big.requestId } });
    expect(entry).toMatchObject({ amount: -3_000_000_000_123n, kind: 'usage' });
    const gql = await h.gql(
      `query($id: String!) { usageRecord(requestId: $id) { inputTokens cachedInputTokens cacheWriteTokens outputTokens reasoningTokens lane chargeKind overHold attempts { provider outcome status message } } }`,
      { id: big.requestId },
    );
    expect(gql.data?.usageRecord).toEqual({
      inputTokens: 3_000_000_000, cachedInputTokens: 4_000_000_001, cacheWriteTokens: 5_000_000_002, outputTokens: 6_000_000_003,
      reasoningTokens: 1_000_000_000_000, lane: 'continuation', chargeKind: 'usage', overHold: true,
      attempts: [
        { provider: 'groq', outcome: 'failed', status: 503, message: 'HTTP 503: overloaded' },
        { provider: 'openai', outcome: 'ok', status: 200, message: null },
      ],
    });
  });

  it('records the image count of an images event, none for others, and sends a bad count to the dead letters', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-images' });
    const images = event(160_000_000n, { endpoint: 'images', usage: usage({}), images: 2 });
    const chat = event(5n);
    const bad = { ...event(1n, { endpoint: 'images' }), images: -1 };
    await consumer.process([
      { id: '3-1', payload: JSON.stringify(images), storeDebited: true },
      { id: '3-2', payload: JSON.stringify(chat), storeDebited: true },
      { id: '3-3', payload: JSON.stringify(bad), storeDebited: true },
    ]);
    const found = async (requestId: string) => (await h.database.db.query.usageRecords.findFirst({ where: { requestId } }))?.images;
    expect([await found(images.requestId), await found(chat.requestId), await found(bad.requestId)]).toEqual([2, null, undefined]);
    const dead = await h.database.db.query.usageDeadLetters.findFirst({ where: { streamId: '3-3' } });
    expect(dead?.error).toBe('unsupported usage event: bad images');
  });

  it('books a BYOK fee as its own ledger kind, once per request', async () => {
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-byok' });
    const credentialId = randomUUID();
    const fee = event(51n, { tier: 'byok', chargeKind: 'byok_fee', provider: 'groq', channelId: null, byokCredentialId: credentialId, providerCost: '0' });
    await consumer.process([{ id: '3-1', payload: JSON.stringify(fee), storeDebited: true }]);
    await consumer.process([{ id: '3-2', payload: JSON.stringify(fee), storeDebited: true }]);
    expect(await h.database.db.query.usageRecords.findFirst({ where: { requestId: fee.requestId } })).toMatchObject({
      tier: 'byok', chargeKind: 'byok_fee', channelId: null, byokCredentialId: credentialId, cost: 51n, providerCost: 0n,
    });
    const entries = await h.database.db.query.ledgerEntries.findMany({ where: { requestId: fee.requestId } });
    expect(entries).toEqual([expect.objectContaining({ amount: -51n, kind: 'byok_fee', reason: 'byok fee: gpt-4o-mini (groq)', idempotencyKey: `usage:${fee.requestId}` })]);
  });
  it('writes a batch bigger than one statement whole: every record, every debit, once', async () => {
    const { orgId: own, keyId: ownKey } = await ownOrg();
    const consumer = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-big' });
    // More than two statements' worth of rows (2,000 each), every third request free.
    const events = Array.from({ length: 4_100 }, (_, i) => event(BigInt(i % 3 === 0 ? 0 : (i % 7) + 1), { orgId: own, keyId: ownKey }));
    const deliveries = events.map((e, i) => ({ id: `7-${i}`, payload: JSON.stringify(e), storeDebited: true }));
    const seen: string[] = [];
    consumer.onConsumed((ids) => seen.push(...ids));
    const start = await ledgerBalance(h.database.db, own);
    await consumer.process(deliveries);
    const charged = events.filter((e) => BigInt(e.cost) > 0n);
    const total = charged.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    const count = async () => (await h.database.db.select({ requestId: usageRecords.requestId }).from(usageRecords).where(eq(usageRecords.orgId, own))).length;
    expect(await count()).toBe(events.length);
    expect((await h.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.orgId, own))).filter((e) => e.kind === 'usage')).toHaveLength(charged.length);
    expect(await ledgerBalance(h.database.db, own)).toBe(start - total);
    expect(new Set(seen)).toEqual(new Set(events.map((e) => e.requestId)));
    // The same batch again (redelivered after a crash before its acknowledgement) adds nothing.
    await consumer.process(deliveries);
    expect(await count()).toBe(events.length);
    expect(await ledgerBalance(h.database.db, own)).toBe(start - total);
  });

  it('loses nothing and doubles nothing when it dies with pipelined batches in flight', async () => {
    const { orgId: own, keyId: ownKey } = await ownOrg();
    // Drain what earlier tests left, so the batches below are exactly these events.
    const drain = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-drain' });
    await drain.close();
    // Three batches (reads of up to 1,000): one of them never acknowledged, the others written around it.
    const events = Array.from({ length: 2_300 }, (_, i) => event(BigInt((i % 5) + 1), { orgId: own, keyId: ownKey }));
    for (const e of events) await settle(e);
    // The first consumer dies after committing its second batch and before acknowledging it: its
    // acknowledgement never returns (the process is gone), while other batches go on around it.
    let acks = 0;
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    const ackUsage = async (ids: string[]): Promise<void> => {
      if (++acks === 2) {
        died();
        return new Promise<void>(() => {});
      }
      return h.store.ackUsage(ids);
    };
    const dying = new Proxy(h.store, {
      get(store, key) {
        if (key === 'ackUsage') return ackUsage;
        const value: unknown = Reflect.get(store, key, store);
        return typeof value === 'function' ? value.bind(store) : value;
      },
    }) as StateStore;
    const first = new UsageConsumer({ db: h.database.db, store: dying, logger: captureLogger(logs), consumerName: 'test-dies', claimIdleMs: 60_000 });
    first.start();
    await dead;
    const written = async () => (await h.database.db.select({ requestId: usageRecords.requestId }).from(usageRecords).where(eq(usageRecords.orgId, own))).length;
    await until(async () => (await written()) === events.length, 10_000);
    expect((await h.store.unconsumedUsage(10_000)).length).toBeGreaterThan(0); // committed, never acknowledged
    // Abandoned, not closed: closing would wait for the acknowledgement that never comes.
    void first.close();
    const heir = new UsageConsumer({ db: h.database.db, store: h.store, logger: captureLogger(logs), consumerName: 'test-heir', claimIdleMs: 200 });
    heir.start();
    try {
      await until(async () => (await h.store.unconsumedUsage(10)).length === 0, 10_000);
    } finally {
      await heir.close();
    }
    const total = events.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    expect(await written()).toBe(events.length);
    const debits = (await h.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.orgId, own))).filter((e) => e.kind === 'usage');
    expect(debits).toHaveLength(events.length);
    expect(debits.reduce((sum, e) => sum - e.amount, 0n)).toBe(total);
    expect(await ledgerBalance(h.database.db, own)).toBe(1_000_000_000n - total);
  });
});
