import { randomUUID } from 'node:crypto';
import { usage, type UsageEvent } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../services/ledger.ts';
import { UsageConsumer } from '../services/usage-consumer.ts';
import { generousRateLimits } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

/**
 * Newest-first connections page through rows that share a created_at (one consumer batch shares
 * one) exactly once each, forwards and backwards, with the cursor's bound on created_at in place
 * (keyset.ts): the three connections over usage records and ledger entries.
 */
let h: Harness;
let orgId: string;
const BATCHES = 3;
const PER_BATCH = 5;

beforeAll(async () => {
  h = await createHarness({ rateLimits: generousRateLimits() });
  orgId = (await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: `Paged-${randomUUID()}` })).data.id as string;
  await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'start', idempotencyKey: `start-${orgId}` });
  const keyId = (await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'apiKey { id }', { orgId, name: 'k' })).data.apiKey.id as string;
  const consumer = new UsageConsumer({ db: h.database.db, store: h.store, consumerName: 'paging' });
  const event = (): UsageEvent => ({
    v: 2, requestId: `req_${randomUUID()}`, clientRequestId: null, orgId, keyId, model: 'm', tier: 'resale', lane: null, provider: 'openai',
    channelId: randomUUID(), byokCredentialId: null, upstreamModel: 'u', endpoint: '/v1/chat/completions', stream: false,
    usage: usage({ input: 3, output: 4 }), usageSource: 'reported', chargeKind: 'usage', cost: '7', providerCost: '0', hold: '14',
    overHold: false, attempts: [], startedAt: Date.now(), latencyMs: 1, status: 'ok', httpStatus: 200, errorCode: null,
  });
  // Each batch is one transaction: its records and ledger entries share one created_at.
  for (let b = 0; b < BATCHES; b++) {
    await consumer.process(Array.from({ length: PER_BATCH }, (_, i) => ({ id: `${b}-${i}`, payload: JSON.stringify(event()), storeDebited: true })));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
});
afterAll(async () => {
  await h?.cleanup();
});

const connections = [
  { name: 'Query.usageRecords', path: (d: any) => d.usageRecords, field: (args: string) => `usageRecords(orgId: $org, ${args})`, id: 'requestId' },
  { name: 'Org.usageRecords', path: (d: any) => d.org.usageRecords, field: (args: string) => `org(id: $org) { usageRecords(${args})`, id: 'requestId' },
  { name: 'Org.ledgerEntries', path: (d: any) => d.org.ledgerEntries, field: (args: string) => `org(id: $org) { ledgerEntries(${args})`, id: 'id' },
];

describe.each(connections)('$name', ({ path, field, id }) => {
  async function page(args: string, cursor: string | null): Promise<{ ids: string[]; start: string | null; end: string | null; more: boolean }> {
    const close = field('').startsWith('org(') ? '}' : '';
    const r = await h.gql(
      `query($org: ID!${args.includes('$cursor') ? ', $cursor: String' : ''}) { ${field(args)} { edges { node { ${id} } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } ${close} }`,
      { org: orgId, cursor },
    );
    expect(r.errors).toBeUndefined();
    const c = path(r.data);
    return { ids: c.edges.map((e: any) => e.node[id]), start: c.pageInfo.startCursor, end: c.pageInfo.endCursor, more: args.startsWith('first') ? c.pageInfo.hasNextPage : c.pageInfo.hasPreviousPage };
  }

  /** Every page, four rows each, from the newest (forwards) or the oldest (backwards), in newest-first order. */
  async function walk(forwards: boolean): Promise<string[]> {
    const out: string[] = [];
    for (let cursor: string | null = null, more = true; more; ) {
      const p = await page(forwards ? 'first: 4, after: $cursor' : 'last: 4, before: $cursor', cursor);
      if (forwards) out.push(...p.ids);
      else out.unshift(...p.ids);
      [cursor, more] = [forwards ? p.end : p.start, p.more];
    }
    return out;
  }

  it('visits every row once, in the same order, four at a time forwards and backwards', async () => {
    const all = (await page('first: 100', null)).ids;
    // Usage records: the batches'; ledger entries: theirs and the starting credit.
    expect(all.length).toBe(id === 'id' ? BATCHES * PER_BATCH + 1 : BATCHES * PER_BATCH);
    expect(await walk(true)).toEqual(all);
    expect(await walk(false)).toEqual(all);
  });
});

it('orders usage records newest first, the request id breaking ties, as the database does', async () => {
  const expected = rowsOf<{ request_id: string }>(
    await h.database.db.execute(sql`select request_id from usage_records where org_id = ${orgId} order by created_at desc, request_id desc`),
  ).map((r) => r.request_id);
  const r = await h.gql(`query($org: ID!) { usageRecords(orgId: $org, first: 100) { edges { node { requestId } } } }`, { org: orgId });
  expect(r.data!.usageRecords.edges.map((e: any) => e.node.requestId)).toEqual(expected);
  // Three distinct instants, five rows each: the ties the cursor must get through.
  const instants = rowsOf<{ n: string }>(await h.database.db.execute(sql`select count(distinct created_at)::text as n from usage_records where org_id = ${orgId}`));
  expect(instants[0]!.n).toBe(String(BATCHES));
});
