import { hashSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createChannel, createModel, createOrg, generousRateLimits, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

/** Keys, orgs, risky changes, the audit log and declarative configuration, through GraphQL. */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('API keys', () => {
  it('updates name, expiry and tiers, publishing the record', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const updated = await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'name expiresAt allowedTiers', { id: key.id, name: 'renamed', expiresAt, allowedTiers: ['resale'] });
    expect(updated.data).toEqual({ name: 'renamed', expiresAt, allowedTiers: ['resale'] });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ expiresAt: Date.parse(expiresAt), allowedTiers: ['resale'] });
    const cleared = await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'name expiresAt allowedTiers', { id: key.id, expiresAt: null, allowedTiers: null });
    expect(cleared.data).toEqual({ name: 'renamed', expiresAt: null, allowedTiers: null });
    expect((await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, expiresAt: '2000-01-01T00:00:00.000Z' })).typename).toBe('ValidationError');
  });

  it('rotates with a grace period: both secrets work until it ends, then only the new one', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const rotated = await mutate(h, 'rotateApiKey', 'RotateApiKeyInput', 'secret apiKey { id last4 previousSecretExpiresAt }', { id: key.id, gracePeriodSeconds: 3600 });
    const secret = rotated.data.secret as string;
    expect(secret).not.toBe(key.secret);
    expect(rotated.data.apiKey).toMatchObject({ id: key.id, last4: secret.slice(-4) });
    const graceEnd = Date.parse(rotated.data.apiKey.previousSecretExpiresAt);
    expect(graceEnd).toBeGreaterThan(Date.now() + 3_500_000);
    expect(await h.store.getKeyRecord(hashSecret(secret))).toMatchObject({ id: key.id, status: 'active', expiresAt: null });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ id: key.id, status: 'active', expiresAt: graceEnd });
    // Rotating again ends the first grace at once: only one old secret is ever honoured.
    const again = await mutate(h, 'rotateApiKey', 'RotateApiKeyInput', 'secret', { id: key.id });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toBeNull();
    expect(await h.store.getKeyRecord(hashSecret(secret))).toBeNull();
    expect(await h.store.getKeyRecord(hashSecret(again.data.secret))).toMatchObject({ id: key.id });
  });

  it('deletes a key (its secret stops), and reports its usage', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const usage = await h.gql(`query($id: ID!) { org(id: $id) { apiKeys { edges { node { usage { requests cost lastUsedAt } } } } } }`, { id: orgId });
    expect(usage.data!.org.apiKeys.edges).toEqual([{ node: { usage: { requests: 0, cost: '0', lastUsedAt: null } } }]);
    expect((await mutate(h, 'deleteApiKey', 'ApiKeyIdInput', 'id', { id: key.id })).data).toEqual({ id: key.id });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toBeNull();
    expect((await mutate(h, 'deleteApiKey', 'ApiKeyIdInput', 'id', { id: key.id })).typename).toBe('NotFoundError');
  });
});

describe('orgs', () => {
  it('creates idempotently on the slug; a different org under a taken slug is a conflict', async () => {
    const slug = unique('acme');
    const first = await mutate(h, 'createOrg', 'CreateOrgInput', 'id slug name', { name: 'Acme', slug });
    const again = await mutate(h, 'createOrg', 'CreateOrgInput', 'id slug name', { name: 'Acme', slug });
    expect(again.data).toEqual(first.data);
    expect((await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Other', slug })).typename).toBe('ConflictError');
    expect((await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Bad', slug: 'Not A Slug' })).typename).toBe('ValidationError');
    const bySlug = await h.gql(`query($s: String) { org(slug: $s) { id } }`, { s: slug });
    expect(bySlug.data!.org).toEqual({ id: first.data.id });
    // An id that is not one names nothing (no database error).
    expect(await h.gql(`{ org(id: "nope") { id } managementTokens(userId: "nope") { edges { node { id } } } }`)).toEqual({ data: { org: null, managementTokens: { edges: [] } } });
  });

  it('updates name and default tier, and deletes an org without books; one with books is in use', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const updated = await mutate(h, 'updateOrg', 'UpdateOrgInput', 'name defaultTier', { id: orgId, name: 'Renamed', defaultTier: 'cheap' });
    expect(updated.data).toEqual({ name: 'Renamed', defaultTier: 'cheap' });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ defaultTier: 'cheap' });
    expect((await mutate(h, 'deleteOrg', 'OrgIdInput', 'id', { id: orgId })).data).toEqual({ id: orgId });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toBeNull();

    const funded = await createOrg(h);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId: funded, amount: '1', reason: 'r', idempotencyKey: unique('k') });
    const refused = await mutate(h, 'deleteOrg', 'OrgIdInput', 'id', { id: funded });
    expect(refused.typename).toBe('InUseError');
    expect(refused.message).toMatch(/1 ledger entries/);
  });
});

describe('risky changes need confirmation', () => {
  it('a debit larger than the balance', async () => {
    const orgId = await createOrg(h);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'in', idempotencyKey: unique('k') });
    const input = { orgId, amount: '-2', reason: 'out', idempotencyKey: unique('k') };
    const warned = await h.gql(`mutation($i: CreditOrgInput!) { creditOrg(input: $i) { __typename ... on ConfirmationRequiredError { warnings } } }`, { i: input });
    expect(warned.data!.creditOrg).toEqual({ __typename: 'ConfirmationRequiredError', warnings: ['the debit of 2 credits is larger than the balance of 1: the org would owe credits'] });
    expect((await h.gql(`query($id: ID!) { org(id: $id) { balance } }`, { id: orgId })).data!.org.balance).toBe('1');
    expect((await mutate(h, 'creditOrg', 'CreditOrgInput', 'amount', { ...input, confirm: true })).data).toEqual({ amount: '-2' });
  });

  it('a sell price below a target\'s cost', async () => {
    const channelId = await createChannel(h);
    const model = await createModel(h, { targets: [{ channelId, upstreamModel: 'u', cost: { input: '1', output: '2' } }] });
    const input = { modelId: model.id, tier: 'resale', price: { input: '1', output: '1.5' } };
    const warned = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', input);
    expect(warned.typename).toBe('ConfirmationRequiredError');
    expect((await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'tier', { ...input, confirm: true })).data).toEqual({ tier: 'resale' });
  });
});

describe('deleting a model', () => {
  it('removes it from routing; a plan lane keeps it in use', async () => {
    const model = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '1' } }] });
    expect((await h.store.getRouteTable())!.models[model.name]).toBeDefined();
    expect((await mutate(h, 'deleteModel', 'ModelIdInput', 'id', { id: model.id })).data).toEqual({ id: model.id });
    expect((await h.store.getRouteTable())!.models[model.name]).toBeUndefined();
    const laned = await createModel(h);
    await mutate(h, 'createPlan', 'CreatePlanInput', 'id', { name: unique('plan'), window: 'day', premiumAllowanceTokens: 1, continuationAllowed: false, fallbackAllowed: false, premiumLane: { model: laned.name, tier: 'resale' } });
    const refused = await mutate(h, 'deleteModel', 'ModelIdInput', 'id', { id: laned.id });
    expect(refused.typename).toBe('InUseError');
  });
});

describe('the audit log', () => {
  it('records who did what, from where, and how it ended, without secrets', async () => {
    const orgId = await createOrg(h);
    await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId, provider: 'openai', credential: 'sk-audit-canary-0123456789' });
    await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret', { orgId, name: '' });
    const log = await h.gql(`query($o: ID) { auditLog(orgId: $o) { edges { node { action outcome actorKind actorEmail details } } } }`, { o: orgId });
    const entries = (log.data!.auditLog.edges as { node: { action: string; outcome: string; actorKind: string; actorEmail: string; details: string } }[]).map((e) => e.node);
    // Entries within one millisecond have no defined order among themselves.
    expect(entries.map((e) => [e.action, e.outcome, e.actorKind]).sort()).toEqual([
      ['createApiKey', 'ValidationError', 'token'],
      ['createOrg', 'ok', 'token'],
      ['setByokCredential', 'ok', 'token'],
    ]);
    const byok = entries.find((e) => e.action === 'setByokCredential')!;
    expect(byok.actorEmail).toMatch(/^admin-/);
    expect(JSON.parse(byok.details)).toEqual({ orgId, provider: 'openai', credential: '[secret]' });
    expect(JSON.stringify(log)).not.toContain('sk-audit-canary');
  });
});

describe('declarative configuration', () => {
  const document = (suffix: string, input = '0.2') => `
version: 1
channels:
  - name: ch-${suffix}
    provider: custom
    tier: resale
    baseUrl: http://127.0.0.1:9/v1
    credential: sk-apply-${suffix}-0123456789
    retries: 1
models:
  - name: m-${suffix}
    maxOutputTokens: 1000
    prices:
      resale: { input: "${input}", output: "0.8" }
    targets:
      - channel: ch-${suffix}
        upstreamModel: up-${suffix}
        cost: { input: "0.1", output: "0.4" }
plans:
  - name: plan-${suffix}
    window: month
    premiumAllowanceTokens: 1000
    continuationAllowed: false
    fallbackAllowed: false
    premiumLane: { model: m-${suffix}, tier: resale }
orgs:
  - slug: org-${suffix}
    name: Org ${suffix}
    plan: plan-${suffix}
    keys:
      - name: production
`;
  const apply = (doc: string, dryRun = false) =>
    mutate(h, 'applyConfig', 'ApplyConfigInput', 'dryRun changes { action kind name fields } createdKeys { org name secret }', { document: doc, dryRun });

  it('dry-runs, applies, and applying twice changes nothing; a changed price is one update', async () => {
    const suffix = unique('d');
    const dry = await apply(document(suffix), true);
    expect(dry.data.changes.map((c: { action: string; kind: string }) => `${c.action} ${c.kind}`)).toEqual(['create channel', 'create model', 'create plan', 'create org', 'create key']);
    expect((await h.gql(`query($s: String) { org(slug: $s) { id } }`, { s: `org-${suffix}` })).data!.org).toBeNull();
    const applied = await apply(document(suffix));
    expect(applied.data.changes).toHaveLength(5);
    expect(applied.data.createdKeys).toEqual([{ org: `org-${suffix}`, name: 'production', secret: expect.stringMatching(/^tg_/) }]);
    expect((await apply(document(suffix))).data).toEqual({ dryRun: false, changes: [], createdKeys: [] });
    const repriced = await apply(document(suffix, '0.3'));
    expect(repriced.data.changes).toEqual([{ action: 'update', kind: 'price', name: `m-${suffix}/resale`, fields: ['price'] }]);
  });

  it('exports the same format with credentials masked, and the export applies as no change', async () => {
    const suffix = unique('e');
    await apply(document(suffix));
    const exported = (await h.gql(`{ exportConfig }`)).data!.exportConfig as string;
    expect(exported).toContain(`name: ch-${suffix}`);
    expect(exported).toContain('credential: "****');
    expect(exported).not.toContain(`sk-apply-${suffix}`);
    expect((await apply(exported)).data.changes).toEqual([]);
  });

  it('carries key limits and metadata, org ceilings, overdraft and low-balance threshold both ways, exactly', async () => {
    const suffix = unique('l');
    const withLimits = (rpm: number) =>
      document(suffix).replace(
        `    keys:
      - name: production
`,
        `    limits: { concurrency: 40, dailyCreditLimit: "100" }
    overdraft: "2.5"
    lowBalanceThreshold: "10"
    keys:
      - name: production
        limits: { requestsPerMinute: ${rpm}, models: [m-${suffix}, "cheap/*"], monthlyCreditLimit: "25" }
        metadata: { team: search, env: prod }
`,
      );
    expect((await apply(withLimits(60))).typename).toBe('MutationApplyConfigSuccess');
    const org = (await h.gql(`query($s: String) { org(slug: $s) { overdraft lowBalanceThreshold limits { concurrency dailyCreditLimit } apiKeys { edges { node { limits { requestsPerMinute models monthlyCreditLimit } metadata { key value } } } } } }`, { s: `org-${suffix}` })).data!.org;
    expect(org).toEqual({
      overdraft: '2.5', lowBalanceThreshold: '10', limits: { concurrency: 40, dailyCreditLimit: '100' },
      apiKeys: { edges: [{ node: { limits: { requestsPerMinute: 60, models: [`m-${suffix}`, 'cheap/*'], monthlyCreditLimit: '25' }, metadata: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'search' }] } }] },
    });
    expect((await apply(withLimits(60))).data.changes).toEqual([]);
    const exported = (await h.gql(`{ exportConfig }`)).data!.exportConfig as string;
    expect((await apply(exported)).data.changes).toEqual([]);
    expect((await apply(withLimits(30))).data.changes).toEqual([{ action: 'update', kind: 'key', name: `org-${suffix}/production`, fields: ['limits'] }]);
  });

  it('refuses a malformed document with a typed error', async () => {
    expect((await apply('version: 2')).typename).toBe('ValidationError');
    expect((await apply('{ not yaml')).typename).toBe('ValidationError');
  });
});
