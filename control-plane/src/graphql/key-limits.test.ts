import { randomUUID } from 'node:crypto';
import { decodeKeyRecord, encodeKeyRecord, hashSecret, type KeyRecord } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../db/schema/index.ts';
import { apiKeySpend } from '../services/api-keys.ts';
import { createApiKey, createOrg, generousRateLimits, memberWithToken, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

/**
 * Issue 6, "Key permissions": limits of a key, ceilings and overdraft of an org, a member's
 * allowance, all set through GraphQL, validated strictly (a refusal changes nothing) and published
 * in the key record the data plane enforces.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

const LIMITS = 'models ipAllowlist requestsPerMinute tokensPerMinute concurrency lifetimeCreditLimit dailyCreditLimit weeklyCreditLimit monthlyCreditLimit';
const KEY_FIELDS = `id limits { ${LIMITS} } metadata { key value } member { id }`;
const NONE = { models: null, ipAllowlist: null, requestsPerMinute: null, tokensPerMinute: null, concurrency: null, lifetimeCreditLimit: null, dailyCreditLimit: null, weeklyCreditLimit: null, monthlyCreditLimit: null };

async function createKey(input: Record<string, unknown>, as: Harness = h) {
  return mutate(as, 'createApiKey', 'CreateApiKeyInput', `secret apiKey { ${KEY_FIELDS} }`, input);
}

async function record(secret: string): Promise<KeyRecord | null> {
  return h.store.getKeyRecord(hashSecret(secret));
}

async function keyRow(id: string) {
  return h.database.db.query.apiKeys.findFirst({ where: { id } });
}

describe('key limits', () => {
  it('sets every limit and label at creation, shows them, and publishes them in the key record', async () => {
    const orgId = await createOrg(h);
    const r = await createKey({
      orgId, name: 'limited',
      limits: {
        models: ['gpt-x', 'cheap/*', 'resale/gpt-y', 'gpt-x'], ipAllowlist: ['10.0.0.0/8', '2001:DB8::/32', '192.0.2.7', '::ffff:0.0.0.0/96'],
        requestsPerMinute: 60, tokensPerMinute: 100_000, concurrency: 4,
        lifetimeCreditLimit: '100', dailyCreditLimit: '1.5', weeklyCreditLimit: '5', monthlyCreditLimit: '0.000000001',
      },
      metadata: [{ key: 'team', value: 'search' }, { key: 'cost-centre', value: '' }],
    });
    expect(r.typename).toBe('MutationCreateApiKeySuccess');
    expect(r.data.apiKey).toEqual({
      id: expect.any(String),
      limits: {
        // Duplicates go; ranges and IPv6 are kept in canonical form.
        models: ['gpt-x', 'cheap/*', 'resale/gpt-y'], ipAllowlist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', '::ffff:0.0.0.0/96'],
        requestsPerMinute: 60, tokensPerMinute: 100000, concurrency: 4,
        lifetimeCreditLimit: '100', dailyCreditLimit: '1.5', weeklyCreditLimit: '5', monthlyCreditLimit: '0.000000001',
      },
      metadata: [{ key: 'cost-centre', value: '' }, { key: 'team', value: 'search' }],
      member: null,
    });
    const published = await record(r.data.secret);
    expect(published).toEqual({
      v: 2, id: r.data.apiKey.id, orgId, defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: null, planId: null,
      limits: {
        models: ['gpt-x', 'cheap/*', 'resale/gpt-y'], ipAllowlist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', '::ffff:0.0.0.0/96'],
        requestsPerMinute: 60, tokensPerMinute: 100000, concurrency: 4,
        credit: { lifetime: '100000000000', day: '1500000000', week: '5000000000', month: '1' },
      },
      metadata: { team: 'search', 'cost-centre': '' },
    });
    expect(decodeKeyRecord(encodeKeyRecord(published!))).toEqual(published);
  });

  it('changes one limit at a time, clears one with null and all with limits: null, and republishes each time', async () => {
    const orgId = await createOrg(h);
    const { id, secret } = await createApiKey(h, orgId);
    expect((await record(secret))?.limits).toBeUndefined();
    const update = (input: Record<string, unknown>) => mutate(h, 'updateApiKey', 'UpdateApiKeyInput', KEY_FIELDS, { id, ...input });

    expect((await update({ limits: { requestsPerMinute: 1, monthlyCreditLimit: '2' } })).data.limits).toEqual({ ...NONE, requestsPerMinute: 1, monthlyCreditLimit: '2' });
    expect((await update({ limits: { concurrency: 3 } })).data.limits).toEqual({ ...NONE, requestsPerMinute: 1, monthlyCreditLimit: '2', concurrency: 3 });
    expect((await record(secret))?.limits).toEqual({
      models: null, ipAllowlist: null, requestsPerMinute: 1, tokensPerMinute: null, concurrency: 3, credit: { lifetime: null, day: null, week: null, month: '2000000000' },
    });
    expect((await update({ limits: { requestsPerMinute: null } })).data.limits).toEqual({ ...NONE, monthlyCreditLimit: '2', concurrency: 3 });
    expect((await update({ metadata: [{ key: 'a', value: 'b' }] })).data.metadata).toEqual([{ key: 'a', value: 'b' }]);
    expect((await record(secret))?.metadata).toEqual({ a: 'b' });

    const cleared = await update({ limits: null, metadata: null });
    expect(cleared.data).toMatchObject({ limits: NONE, metadata: [] });
    const published = (await record(secret))!;
    expect(published.limits).toBeUndefined();
    expect(published.metadata).toBeUndefined();
  });

  it('refuses malformed limits and labels with a typed error naming the field, changing and publishing nothing', async () => {
    const orgId = await createOrg(h);
    const { id, secret } = await createApiKey(h, orgId);
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id, limits: { requestsPerMinute: 7, ipAllowlist: ['203.0.113.0/24'] } });
    const rowBefore = await keyRow(id);
    const recordBefore = await record(secret);
    const keysBefore = (await h.database.db.query.apiKeys.findMany({ where: { orgId } })).length;
    const cases: [Record<string, unknown>, string][] = [
      [{ limits: { ipAllowlist: ['10.1.2.3/8'] } }, 'limits.ipAllowlist'], // host bits set
      [{ limits: { ipAllowlist: ['10.0.0.0/33'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['10.0.0.0/08'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['10.0.0.0/'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['010.0.0.1'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['10.0.0'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['fe80::1%eth0'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['2001:db8::1/32'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: ['example.com'] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: [] } }, 'limits.ipAllowlist'],
      [{ limits: { ipAllowlist: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) } }, 'limits.ipAllowlist'],
      [{ limits: { models: [] } }, 'limits.models'],
      [{ limits: { models: ['gold/*'] } }, 'limits.models'],
      [{ limits: { models: ['has space'] } }, 'limits.models'],
      [{ limits: { models: ['resale/'] } }, 'limits.models'],
      [{ limits: { requestsPerMinute: 0 } }, 'limits.requestsPerMinute'],
      [{ limits: { tokensPerMinute: -5 } }, 'limits.tokensPerMinute'],
      [{ limits: { concurrency: 0 } }, 'limits.concurrency'],
      [{ limits: { dailyCreditLimit: '-1' } }, 'limits.dailyCreditLimit'],
      [{ limits: { monthlyCreditLimit: '9007199.254740992' } }, 'limits.monthlyCreditLimit'],
      [{ metadata: Array.from({ length: 33 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, 'metadata'],
      [{ metadata: [{ key: 'k'.repeat(65), value: 'v' }] }, 'metadata'],
      [{ metadata: [{ key: '', value: 'v' }] }, 'metadata'],
      [{ metadata: [{ key: 'k', value: 'v'.repeat(513) }] }, 'metadata'],
      [{ metadata: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] }, 'metadata'],
      [{ metadata: [{ key: 'tab\there', value: '1' }] }, 'metadata'],
    ];
    for (const [input, field] of cases) {
      const updated = await h.gql(
        `mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { __typename ... on ValidationError { field } } }`,
        { input: { id, ...input } },
      );
      expect({ input, result: updated.data?.updateApiKey }).toEqual({ input, result: { __typename: 'ValidationError', field } });
      const created = await h.gql(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on ValidationError { field } } }`,
        { input: { orgId, name: 'refused', ...input } },
      );
      expect({ input, result: created.data?.createApiKey }).toEqual({ input, result: { __typename: 'ValidationError', field } });
    }
    expect(await keyRow(id)).toEqual(rowBefore);
    expect(await record(secret)).toEqual(recordBefore);
    expect((await h.database.db.query.apiKeys.findMany({ where: { orgId } })).length).toBe(keysBefore);
  });

  it('sums a key\'s spend over its lifetime and the current UTC day, ISO week and month', async () => {
    const orgId = await createOrg(h);
    const { id } = await createApiKey(h, orgId);
    const other = await createApiKey(h, orgId);
    const spent = async (keyId: string, at: string, cost: bigint) =>
      h.database.db.insert(usageRecords).values({
        requestId: `req_${randomUUID()}`, orgId, apiKeyId: keyId, model: 'm', tier: 'resale', stream: false, usageSource: 'reported', cost,
        status: 'ok', httpStatus: 200, latencyMs: 1, startedAt: new Date(at),
      });
    // Wednesday 4 March 2026, noon UTC: the ISO week began on Monday the 2nd, the month on Sunday the 1st.
    const now = Date.parse('2026-03-04T12:00:00.000Z');
    await spent(id, '2026-02-28T23:59:59.999Z', 1n); // lifetime only
    await spent(id, '2026-03-01T00:00:00.000Z', 10n); // this month, last week
    await spent(id, '2026-03-02T00:00:00.000Z', 100n); // this week
    await spent(id, '2026-03-03T23:59:59.999Z', 1000n); // this week, yesterday
    await spent(id, '2026-03-04T00:00:00.000Z', 10_000n); // today
    await spent(other.id, '2026-03-04T01:00:00.000Z', 100_000n); // another key
    expect(await apiKeySpend(h.database, id, now)).toEqual({ lifetime: 11_111n, month: 11_110n, week: 11_100n, day: 10_000n });
    // Sunday 1 March 2026: the ISO week began on Monday 23 February, in the month before.
    const sunday = await createApiKey(h, orgId);
    await spent(sunday.id, '2026-02-22T23:59:59.999Z', 1n); // the week before
    await spent(sunday.id, '2026-02-23T00:00:00.000Z', 10n); // this week, last month
    await spent(sunday.id, '2026-03-01T00:00:00.000Z', 100n); // today
    expect(await apiKeySpend(h.database, sunday.id, Date.parse('2026-03-01T08:00:00.000Z'))).toEqual({ lifetime: 111n, month: 100n, week: 110n, day: 100n });

    await spent(id, new Date().toISOString(), 2_500_000_000n);
    const r = await h.gql(`query($id: ID!) { org(id: $id) { apiKeys { edges { node { id spend { lifetime day week month } } } } } }`, { id: orgId });
    const node = (r.data!.org.apiKeys.edges as { node: { id: string; spend: unknown } }[]).find((e) => e.node.id === id)!.node;
    expect((node.spend as { lifetime: string }).lifetime).toBe('2.500011111');
    expect(node.spend).toMatchObject({ day: expect.stringMatching(/^2\.5/), week: expect.stringMatching(/^2\.5/), month: expect.stringMatching(/^2\.5/) });
  });
});

describe('org ceilings, overdraft and low-balance threshold', () => {
  const ORG_FIELDS = `id overdraft lowBalanceThreshold limits { ${LIMITS} }`;

  it('sets them at creation and in updateOrg, and publishes ceilings and overdraft in every key record of the org', async () => {
    const slug = unique('ceil');
    const created = await mutate(h, 'createOrg', 'CreateOrgInput', ORG_FIELDS, {
      name: 'Ceilings', slug, limits: { requestsPerMinute: 600, monthlyCreditLimit: '50' }, overdraft: '2', lowBalanceThreshold: '5',
    });
    expect(created.data).toEqual({ id: expect.any(String), overdraft: '2', lowBalanceThreshold: '5', limits: { ...NONE, requestsPerMinute: 600, monthlyCreditLimit: '50' } });
    const orgId = created.data.id as string;
    // Idempotent on the slug with the same settings; other settings are a conflict.
    const again = await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Ceilings', slug, limits: { requestsPerMinute: 600, monthlyCreditLimit: '50' }, overdraft: '2', lowBalanceThreshold: '5' });
    expect(again.data).toEqual({ id: orgId });
    expect((await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Ceilings', slug, overdraft: '3' })).typename).toBe('ConflictError');

    const a = await createApiKey(h, orgId);
    const b = await createApiKey(h, orgId);
    const orgPart = { limits: { models: null, ipAllowlist: null, requestsPerMinute: 600, tokensPerMinute: null, concurrency: null, credit: { lifetime: null, day: null, week: null, month: '50000000000' } }, overdraft: '2000000000' };
    expect((await record(a.secret))?.org).toEqual(orgPart);

    const updated = await mutate(h, 'updateOrg', 'UpdateOrgInput', ORG_FIELDS, { id: orgId, limits: { models: ['resale/*'], requestsPerMinute: null }, overdraft: '0.5' });
    expect(updated.data).toMatchObject({ overdraft: '0.5', limits: { ...NONE, models: ['resale/*'], monthlyCreditLimit: '50' } });
    for (const key of [a, b]) {
      expect((await record(key.secret))?.org).toEqual({ limits: { ...orgPart.limits, models: ['resale/*'], requestsPerMinute: null }, overdraft: '500000000' });
    }
    // No ceilings and no overdraft: the part is left out, as before they existed.
    await mutate(h, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, limits: null, overdraft: null, lowBalanceThreshold: null });
    expect((await record(b.secret))?.org).toBeUndefined();
    expect((await h.gql(`query($id: ID!) { org(id: $id) { ${ORG_FIELDS} } }`, { id: orgId })).data!.org).toEqual({ id: orgId, overdraft: '0', lowBalanceThreshold: null, limits: NONE });
  });

  it('lets an org\'s owner set its low-balance threshold, but not what it is sold, and refuses a negative overdraft', async () => {
    const orgId = await createOrg(h);
    const owner = h.as((await memberWithToken(h, orgId, 'owner')).token);
    expect((await mutate(owner, 'updateOrg', 'UpdateOrgInput', 'lowBalanceThreshold', { id: orgId, lowBalanceThreshold: '1.25' })).data).toEqual({ lowBalanceThreshold: '1.25' });
    const before = await h.database.db.query.orgs.findFirst({ where: { id: orgId } });
    expect((await mutate(owner, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, overdraft: '100' })).typename).toBe('ForbiddenError');
    expect((await mutate(owner, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, name: 'x', limits: { requestsPerMinute: 1_000_000 } })).typename).toBe('ForbiddenError');
    expect((await mutate(h, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, overdraft: '-1' }))).toMatchObject({ typename: 'ValidationError' });
    expect((await mutate(h, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, limits: { concurrency: 0 } }))).toMatchObject({ typename: 'ValidationError' });
    expect(await h.database.db.query.orgs.findFirst({ where: { id: orgId } })).toEqual(before);
  });
});

describe('members\' keys and allowances', () => {
  it('gives a key to the member who creates it, publishes their allowance, and disables their keys when they leave', async () => {
    const orgId = await createOrg(h);
    const dev = await memberWithToken(h, orgId, 'developer');
    const admin = await memberWithToken(h, orgId, 'admin');
    const asDev = h.as(dev.token);
    const asAdmin = h.as(admin.token);

    const own = await createKey({ orgId, name: 'mine' }, asDev);
    expect(own.data.apiKey.member).toEqual({ id: dev.memberId });
    expect((await record(own.data.secret))?.member).toEqual({ id: dev.memberId, monthlyAllowance: null });
    // Operators are no members: their keys are the org's.
    expect((await createKey({ orgId, name: 'ops' })).data.apiKey.member).toBeNull();
    // A service key is the org's, and only those who manage members make one.
    expect((await createKey({ orgId, name: 'svc', serviceKey: true }, asDev)).typename).toBe('ForbiddenError');
    const service = await createKey({ orgId, name: 'svc', serviceKey: true }, asAdmin);
    expect(service.data.apiKey.member).toBeNull();
    expect((await record(service.data.secret))?.member).toBeUndefined();

    const setAllowance = (as: Harness, monthlyAllowance: string | null) =>
      mutate(as, 'setMemberAllowance', 'SetMemberAllowanceInput', 'id monthlyAllowance', { id: dev.memberId, monthlyAllowance });
    expect((await setAllowance(asDev, '1000')).typename).toBe('ForbiddenError');
    expect((await setAllowance(asAdmin, '-1')).typename).toBe('ValidationError');
    expect((await setAllowance(asAdmin, '12.5')).data).toEqual({ id: dev.memberId, monthlyAllowance: '12.5' });
    expect((await record(own.data.secret))?.member).toEqual({ id: dev.memberId, monthlyAllowance: '12500000000' });
    expect((await setAllowance(asAdmin, null)).data.monthlyAllowance).toBeNull();
    expect((await record(own.data.secret))?.member).toEqual({ id: dev.memberId, monthlyAllowance: null });

    // A new secret goes to the key's own member, or to someone who manages members.
    const rotate = (as: Harness, id: string) => mutate(as, 'rotateApiKey', 'RotateApiKeyInput', 'secret', { id });
    expect((await rotate(asDev, service.data.apiKey.id)).typename).toBe('ForbiddenError');
    const rotated = await rotate(asDev, own.data.apiKey.id);
    expect(rotated.typename).toBe('MutationRotateApiKeySuccess');
    expect((await rotate(asAdmin, own.data.apiKey.id)).typename).toBe('MutationRotateApiKeySuccess');

    const removed = await mutate(asAdmin, 'removeMember', 'MemberIdInput', 'id', { id: dev.memberId });
    expect(removed.data).toEqual({ id: dev.memberId });
    expect(await keyRow(own.data.apiKey.id)).toMatchObject({ status: 'disabled', memberId: null });
    // The service key is untouched.
    expect(await keyRow(service.data.apiKey.id)).toMatchObject({ status: 'active', memberId: null });
    const rows = await h.database.db.query.apiKeys.findFirst({ where: { id: own.data.apiKey.id } });
    const published = await h.store.getKeyRecord(rows!.keyHash);
    expect(published).toMatchObject({ status: 'disabled' });
    expect(published?.member).toBeUndefined();
  });
});
