import { randomUUID } from 'node:crypto';
import { hashSecret, spendCounters } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageDeadLetters } from '../db/schema/index.ts';
import { ledgerSum } from '../services/ledger.ts';
import { createApiKey, createOrg, generousRateLimits, memberWithToken } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

/**
 * Issue 6, "From the stream to the books": low-balance alerts, dead letters and reconcile as the
 * GraphQL API shows them. The money paths themselves are tested in services/reconcile.test.ts.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

const credit = (orgId: string, amount: string) =>
  mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount, reason: 'test', idempotencyKey: randomUUID(), confirm: true });

describe('low-balance alerts', () => {
  it('lists one alert per downward crossing of the threshold the org set, newest first, to billing readers', async () => {
    const orgId = await createOrg(h);
    const billing = h.as((await memberWithToken(h, orgId, 'billing')).token);
    const owner = h.as((await memberWithToken(h, orgId, 'owner')).token);
    expect((await mutate(owner, 'updateOrg', 'UpdateOrgInput', 'lowBalanceThreshold', { id: orgId, lowBalanceThreshold: '5' })).data).toEqual({ lowBalanceThreshold: '5' });
    await credit(orgId, '10');
    await credit(orgId, '-4'); // 6: above
    await credit(orgId, '-2'); // 4: the first crossing
    await credit(orgId, '-1'); // 3: still below, no alert
    await credit(orgId, '7'); // 10: back above
    await credit(orgId, '-6.5'); // 3.5: the second crossing
    const alerts = `query($id: ID!) { org(id: $id) { alerts { edges { node { kind balance threshold orgId } } } } }`;
    const r = await billing.gql(alerts, { id: orgId });
    expect(r.data!.org.alerts.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { kind: 'low_balance', balance: '3.5', threshold: '5', orgId },
      { kind: 'low_balance', balance: '4', threshold: '5', orgId },
    ]);
    const viewer = h.as((await memberWithToken(h, orgId, 'viewer')).token);
    expect((await viewer.gql(alerts, { id: orgId })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('usage dead letters', () => {
  /** `ageMs`: how long ago it was written (explicit: rows written within one millisecond would tie). */
  async function deadLetter(orgId: string, ageMs: number, resolved = false) {
    const [row] = await h.database.db
      .insert(usageDeadLetters)
      .values({
        streamId: `0:${randomUUID()}`, requestId: `req_${randomUUID()}`, orgId, cost: 250_000_000n, storeDebited: 'true',
        payload: '{"v":2,"broken":true}', error: 'value out of range for type bigint', createdAt: new Date(Date.now() - ageMs), ...(resolved ? { resolvedAt: new Date(), resolutionNote: 'old' } : {}),
      })
      .returning();
    return row!;
  }

  it('lists open and resolved dead letters for operators, and resolves one without moving money', async () => {
    const orgId = await createOrg(h);
    await credit(orgId, '1');
    const older = await deadLetter(orgId, 3_000);
    const resolvedBefore = await deadLetter(orgId, 2_000, true);
    const newer = await deadLetter(orgId, 1_000);
    const list = async (resolved: boolean | null) =>
      ((await h.gql(`query($r: Boolean) { usageDeadLetters(resolved: $r, first: 100) { edges { node { id } } } }`, { r: resolved })).data!.usageDeadLetters.edges as { node: { id: string } }[])
        .map((e) => e.node.id)
        .filter((id) => [older.id, resolvedBefore.id, newer.id].includes(id));
    expect(await list(false)).toEqual([newer.id, older.id]);
    expect(await list(true)).toEqual([resolvedBefore.id]);
    expect(await list(null)).toEqual([newer.id, resolvedBefore.id, older.id]);

    const ledgerBefore = await ledgerSum(h.database.db, orgId);
    const storeBefore = await h.store.getBalance(orgId);
    const fields = 'id resolvedAt resolvedBy resolutionNote cost storeDebited payload requestId';
    const resolve = (id: string, note: string) => mutate(h, 'resolveUsageDeadLetter', 'ResolveUsageDeadLetterInput', fields, { id, note });
    expect((await resolve(older.id, '   ')).typename).toBe('ValidationError');
    expect((await resolve(randomUUID(), 'x')).typename).toBe('NotFoundError');
    const resolved = await resolve(older.id, 'debited by hand: ledger entry for 0.25');
    const operator = await h.database.db.query.users.findFirst({ where: { isPlatformAdmin: true } });
    expect(resolved.data).toEqual({
      id: older.id, resolvedAt: expect.any(String), resolvedBy: operator!.id, resolutionNote: 'debited by hand: ledger entry for 0.25',
      cost: '0.25', storeDebited: true, payload: '{"v":2,"broken":true}', requestId: older.requestId,
    });
    expect((await resolve(older.id, 'again')).typename).toBe('ConflictError');
    expect((await h.database.db.query.usageDeadLetters.findFirst({ where: { id: older.id } }))?.resolutionNote).toBe('debited by hand: ledger entry for 0.25');
    expect(await list(false)).toEqual([newer.id]);
    expect(await ledgerSum(h.database.db, orgId)).toBe(ledgerBefore);
    expect(await h.store.getBalance(orgId)).toEqual(storeBefore);
  });
});

describe('reconcile and repairStore', () => {
  const REPORT = `orgsChecked countersChecked unconsumedEvents repaired deadLetters { count cost }
    orgs { orgId orgSlug ledger balanceRow store held unconsumed undebited deadLettered expectedStore drift rowDrift }
    counters { orgId keyId counter expected actual }`;
  const reconcile = async () => (await h.gql(`{ reconcile { ${REPORT} } }`)).data!.reconcile;

  it('reports a drifting store balance and spend counter, repairs them, and then reports none', async () => {
    // Whatever earlier tests left (open dead letters) is set aside: this test is about its own org.
    await h.database.db.update(usageDeadLetters).set({ resolvedAt: new Date(), resolutionNote: 'test' });
    const orgId = await createOrg(h);
    const slug = (await h.database.db.query.orgs.findFirst({ where: { id: orgId } }))!.slug;
    await credit(orgId, '2');
    const key = await createApiKey(h, orgId);
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, limits: { dailyCreditLimit: '1' } });
    const clean = await reconcile();
    expect(clean).toMatchObject({ orgs: [], counters: [], repaired: false, deadLetters: { count: 0, cost: '0' } });
    expect(clean.countersChecked).toBeGreaterThanOrEqual(1);

    await h.store.adjustBalance(orgId, -500n);
    const [spend] = spendCounters((await h.store.getKeyRecord(hashSecret(key.secret)))!, Date.now());
    const counter = spend!.counter;
    await h.store.seedCounters(orgId, [{ counter, value: 42, ttlSeconds: null }], 'set');
    const drifting = await reconcile();
    expect(drifting.orgs).toEqual([
      {
        orgId, orgSlug: slug, ledger: '2', balanceRow: '2', store: '1.9999995', held: '0', unconsumed: '0', undebited: '0', deadLettered: '0',
        expectedStore: '2', drift: '-0.0000005', rowDrift: '0',
      },
    ]);
    expect(drifting.counters).toEqual([{ orgId, keyId: key.id, counter, expected: '0', actual: '0.000000042' }]);

    const repaired = await h.gql(`mutation { repairStore { __typename ... on MutationRepairStoreSuccess { data { ${REPORT} } } } }`);
    expect(repaired.data!.repairStore.data).toMatchObject({ repaired: true, orgs: drifting.orgs, counters: drifting.counters });
    expect((await h.store.getBalance(orgId))?.balance).toBe(2_000_000_000n);
    expect(await reconcile()).toMatchObject({ orgs: [], counters: [] });
  });
});
