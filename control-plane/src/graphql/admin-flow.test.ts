import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { generateSecret, parseCredits } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { managementTokens, users } from '../db/schema/index.ts';
import { createHarness, mutate, type GraphQLResult, type Harness } from '../testing/harness.ts';

const UPSTREAM_KEY = 'sk-upstream-test-0123456789abcdef';
const PRICE = { input: '0.15', output: '0.75' };
const COST = { input: '0.1', output: '0.5' };

let h: Harness;

async function createOrg(name: string): Promise<string> {
  const r = await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name });
  expect(r.typename).toBe('MutationCreateOrgSuccess');
  return r.data.id as string;
}

async function balance(orgId: string): Promise<string> {
  const r = await h.gql(`query($id: ID!) { org(id: $id) { balance } }`, { id: orgId });
  return r.data!.org.balance as string;
}

async function ledgerCount(orgId: string): Promise<number> {
  const r = await h.gql(`query($id: ID!) { org(id: $id) { ledgerEntries(first: 100) { edges { node { id } } } } }`, { id: orgId });
  return (r.data!.org.ledgerEntries.edges as unknown[]).length;
}

// Postgres in production, PGlite in the embedded default: the same API over both.
describe.each(['postgres', 'pglite'] as const)('over %s', (database) => {
  beforeAll(async () => {
    h = await createHarness({ database });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  describe('authentication', () => {
    it('refuses anonymous and invalid tokens with an error and no data', async () => {
      for (const token of [null, 'tgm_not-a-token', `${h.token.slice(0, -1)}${h.token.endsWith('A') ? 'B' : 'A'}`]) {
        const r = await h.gql(`{ orgs { edges { node { id } } } viewer { email } }`, {}, token);
        expect(r.data ?? null).toBeNull();
        expect(r.errors?.length).toBeGreaterThan(0);
        expect(JSON.stringify(r)).not.toContain(h.token);
      }
      const m = await mutate({ ...h, gql: (q, v) => h.gql(q, v, null) }, 'createOrg', 'CreateOrgInput', 'id', { name: 'x' });
      expect(m.typename).toBe('none');
      expect(m.errors?.length).toBeGreaterThan(0);
    });

    it('lets a user who is not a platform admin see only the viewer', async () => {
      const [user] = await h.database.db.insert(users).values({ email: `member-${randomUUID()}@example.com` }).returning();
      const token = generateSecret('management_token');
      await h.database.db.insert(managementTokens).values({ userId: user!.id, tokenHash: token.hash, prefix: token.prefix, last4: token.last4 });
      const viewer = await h.gql(`{ viewer { email isPlatformAdmin } }`, {}, token.secret);
      expect(viewer.data?.viewer).toEqual({ email: user!.email, isPlatformAdmin: false });
      // No memberships: no orgs to see, and creating one is an operator's job.
      const orgs = await h.gql(`{ orgs { edges { node { id } } } }`, {}, token.secret);
      expect(orgs.data).toEqual({ orgs: { edges: [] } });
      const m = await mutate({ ...h, gql: (q, v) => h.gql(q, v, token.secret) }, 'createOrg', 'CreateOrgInput', 'id', { name: 'nope' });
      expect(m.typename).toBe('ForbiddenError');
      expect((await h.gql(`{ orgs(first: 100) { edges { node { name } } } }`)).data!.orgs.edges).not.toContainEqual({ node: { name: 'nope' } });
    });

    it('knows the viewer', async () => {
      const r = await h.gql(`{ viewer { email isPlatformAdmin } }`);
      expect(r.data?.viewer).toMatchObject({ isPlatformAdmin: true });
    });
  });

  describe('the admin flow', () => {
    it('creates an org, a channel, a priced model, a credit and a key; revokes the key', async () => {
      const orgId = await createOrg('Acme');
      expect(await balance(orgId)).toBe('0');

      const channel = await mutate(h, 'createChannel', 'CreateChannelInput', 'id name provider baseUrl tier credentialLast4', {
        name: 'main', provider: 'custom', baseUrl: 'https://api.example.com/v1/', credential: UPSTREAM_KEY, tier: 'resale',
      });
      expect(channel.data).toMatchObject({ name: 'main', provider: 'custom', baseUrl: 'https://api.example.com/v1', tier: 'resale', credentialLast4: 'cdef' });

      const model = await mutate(h, 'createModel', 'CreateModelInput',
        'id name targets { channelId upstreamModel priority weight channel { name } cost { input output } } prices { tier price { input output } }',
        { name: 'gpt-4o-mini', prices: [{ tier: 'resale', price: PRICE }], targets: [{ channelId: channel.data.id, upstreamModel: 'gpt-4o-mini-2024-07-18', cost: COST }] });
      expect(model.data).toMatchObject({
        name: 'gpt-4o-mini',
        targets: [{ channelId: channel.data.id, upstreamModel: 'gpt-4o-mini-2024-07-18', priority: 0, weight: 1, channel: { name: 'main' }, cost: COST }],
        prices: [{ tier: 'resale', price: PRICE }],
      });

      const credit = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id amount kind reason idempotencyKey requestId', {
        orgId, amount: '12.5', reason: 'welcome', idempotencyKey: 'acme-welcome',
      });
      expect(credit.data).toMatchObject({ amount: '12.5', kind: 'adjustment', reason: 'welcome', idempotencyKey: 'acme-welcome', requestId: null });
      expect(await balance(orgId)).toBe('12.5');

      const created = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret apiKey { id name prefix last4 status expiresAt }', { orgId, name: 'production' });
      const secret = created.data.secret as string;
      expect(secret).toMatch(/^tg_[0-9A-Za-z]{49}$/);
      expect(created.data.apiKey).toMatchObject({ name: 'production', status: 'active', expiresAt: null, prefix: secret.slice(0, 7), last4: secret.slice(-4) });

      const listed = await h.gql(`{ orgs(first: 20) { edges { node { apiKeys { edges { node { id prefix last4 status } } } } } } }`);
      expect(JSON.stringify(listed)).not.toContain(secret);
      expect(listed.data!.orgs.edges.flatMap((o: { node: { apiKeys: { edges: { node: unknown }[] } } }) => o.node.apiKeys.edges.map((e) => e.node))).toContainEqual(
        expect.objectContaining({ id: created.data.apiKey.id, last4: secret.slice(-4) }),
      );

      const revoked = await mutate(h, 'revokeApiKey', 'RevokeApiKeyInput', 'id status', { id: created.data.apiKey.id });
      expect(revoked.data).toEqual({ id: created.data.apiKey.id, status: 'revoked' });
      const missing = await mutate(h, 'revokeApiKey', 'RevokeApiKeyInput', 'id', { id: '00000000-0000-4000-8000-000000000000' });
      expect(missing.typename).toBe('NotFoundError');
    });
  });

  describe('crediting', () => {
    it('is idempotent: the same key twice makes one entry and credits once', async () => {
      const orgId = await createOrg('Idem');
      const input = { orgId, amount: '2.000000001', reason: 'top-up', idempotencyKey: 'idem-1' };
      const first = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', input);
      const second = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', input);
      expect(second.data.id).toBe(first.data.id);
      expect(await ledgerCount(orgId)).toBe(1);
      expect(parseCredits(await balance(orgId))).toBe(2_000_000_001n);
      expect(await h.store.getBalance(orgId)).toMatchObject({ balance: 2_000_000_001n });

      const conflict = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { ...input, amount: '3' });
      expect(conflict.typename).toBe('ConflictError');
      const otherOrg = await createOrg('Other');
      const elsewhere = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { ...input, orgId: otherOrg });
      expect(elsewhere.typename).toBe('ConflictError');
      expect(await ledgerCount(orgId)).toBe(1);
      expect(await ledgerCount(otherOrg)).toBe(0);
      expect(parseCredits(await balance(orgId))).toBe(2_000_000_001n);
    });

    it('pages through the ledger newest first, each entry once', async () => {
      const orgId = await createOrg('Paged');
      // Five entries inside one millisecond, microseconds apart (as concurrent writes can land):
      // paging must neither skip nor repeat any of them.
      for (const [i, micros] of ['123456', '123400', '123300', '123200', '123100'].entries()) {
        await h.database.db.execute(
          sql`insert into ledger_entries (org_id, amount, kind, reason, idempotency_key, created_at)
              values (${orgId}, ${String(i + 1)}, 'adjustment', 'p', ${`paged-${orgId}-${i}`}, ${`2025-01-01T00:00:00.${micros}Z`})`,
        );
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page++) {
        type Page = { org: { ledgerEntries: { edges: { node: { amount: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } };
        const r: GraphQLResult<Page> = await h.gql<Page>(
          `query($id: ID!, $after: String) { org(id: $id) { ledgerEntries(first: 2, after: $after) { edges { node { amount } } pageInfo { hasNextPage endCursor } } } }`,
          { id: orgId, after },
        );
        const conn: Page['org']['ledgerEntries'] = r.data!.org.ledgerEntries;
        seen.push(...conn.edges.map((e) => e.node.amount));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      // Within one millisecond the order is by id; what matters is each entry exactly once.
      expect([...seen].sort()).toEqual(['0.000000001', '0.000000002', '0.000000003', '0.000000004', '0.000000005']);
    });

    it('takes negative adjustments', async () => {
      const orgId = await createOrg('Neg');
      await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '5', reason: 'in', idempotencyKey: 'neg-1' });
      await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '-1.25', reason: 'refund', idempotencyKey: 'neg-2' });
      expect(await balance(orgId)).toBe('3.75');
      expect(await h.store.getBalance(orgId)).toMatchObject({ balance: 3_750_000_000n });
    });
  });

  describe('bad input changes nothing', () => {
    it('refuses malformed Credits with a clear error', async () => {
      const orgId = await createOrg('Strict');
      for (const amount of ['1.0000000001', 'abc', '1e3', '']) {
        const r = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount, reason: 'x', idempotencyKey: `bad-${amount}` });
        expect(r.typename).toBe('none');
        expect(r.errors?.[0]?.message).toMatch(/credits/i);
      }
      const zero = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '0', reason: 'x', idempotencyKey: 'zero' });
      expect(zero.typename).toBe('ValidationError');
      const noReason = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: ' ', idempotencyKey: 'nr' });
      expect(noReason.typename).toBe('ValidationError');
      expect(await ledgerCount(orgId)).toBe(0);
    });

    it('refuses unknown orgs and channels, bad URLs and taken names', async () => {
      const unknownOrg = await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId: '00000000-0000-4000-8000-000000000001', amount: '1', reason: 'x', idempotencyKey: 'u' });
      expect(unknownOrg.typename).toBe('NotFoundError');
      const notAUuid = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret', { orgId: 'nope', name: 'k' });
      expect(notAUuid.typename).toBe('NotFoundError');

      const before = (await h.gql(`{ channels(first: 100) { edges { node { id } } } models(first: 100) { edges { node { id } } } }`)).data!;
      for (const baseUrl of ['not a url', 'ftp://example.com/v1', 'https://user:pw@example.com/v1']) {
        const r = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', { name: `c-${baseUrl}`, provider: 'custom', baseUrl, credential: UPSTREAM_KEY, tier: 'resale' });
        expect(r.typename).toBe('ValidationError');
        expect(r.message).not.toContain(UPSTREAM_KEY);
      }
      const dupe = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', { name: 'main', provider: 'custom', baseUrl: 'https://x.example/v1', credential: UPSTREAM_KEY, tier: 'cheap' });
      expect(dupe.typename).toBe('ConflictError');
      const target = { channelId: '00000000-0000-4000-8000-000000000002', upstreamModel: 'u', cost: COST };
      const noChannel = await mutate(h, 'createModel', 'CreateModelInput', 'id', { name: 'm2', prices: [{ tier: 'resale', price: PRICE }], targets: [target] });
      expect(noChannel.typename).toBe('NotFoundError');
      const badPrice = await mutate(h, 'createModel', 'CreateModelInput', 'id', { name: 'm3', prices: [{ tier: 'resale', price: { ...PRICE, input: '0.1234567891' } }] });
      expect(badPrice.errors?.[0]?.message).toMatch(/credits/i);
      expect((await h.gql(`{ channels(first: 100) { edges { node { id } } } models(first: 100) { edges { node { id } } } }`)).data).toEqual(before);
    });
  });

  describe('secrets', () => {
    it('never appear in query results', async () => {
      const orgId = await createOrg('Secretive');
      const key = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret', { orgId, name: 'k' });
      const everything = await h.gql(`{
        viewer { id email }
        orgs { edges { node { id name apiKeys { edges { node { id name prefix last4 status expiresAt createdAt revokedAt } } } ledgerEntries(first: 10) { edges { node { id amount reason } } } } } }
        channels { edges { node { id name provider baseUrl tier credentialLast4 } } }
        models { edges { node { id name targets { channel { id credentialLast4 } } } } }
      }`);
      expect(everything.errors).toBeUndefined();
      const text = JSON.stringify(everything);
      expect(text).not.toContain(key.data.secret);
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(text).not.toContain(h.token);
      expect(text).not.toMatch(/(v1|e1)\.[A-Za-z0-9_-]{11,}\./); // a sealed credential
    });
  });
});
