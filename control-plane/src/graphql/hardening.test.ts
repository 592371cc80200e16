import { MemoryStateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { createControlPlane } from '../server.ts';
import { createPlatformAdmin } from '../services/admins.ts';
import { generousRateLimits } from '../testing/fixtures.ts';
import { createHarness, type Harness } from '../testing/harness.ts';
import { DEFAULT_LIMITS } from './limits.ts';

/**
 * What an attacker reaches: refusals before parsing, the size and shape limits, production
 * defaults (no introspection, no suggestions, no GraphiQL), CSRF prevention and CORS.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

type Body = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
const codes = async (response: Response): Promise<(string | undefined)[]> => ((await response.json()) as Body).errors?.map((e) => e.extensions?.code) ?? [];
const auth = () => ({ authorization: `Bearer ${h.token}` });

describe('authentication', () => {
  it('answers anonymous, malformed, unknown and customer-key requests with HTTP 401 UNAUTHENTICATED, before parsing', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer tgm_not-a-token' }, { authorization: `Bearer ${h.token.slice(0, -1)}x` }, { authorization: 'Bearer tg_customerkey' }, { authorization: 'Basic abc' }]) {
      const response = await h.post({ query: '{ orgs { edges { node { id } } } }' }, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await codes(response)).toEqual(['UNAUTHENTICATED']);
    }
    // A large anonymous document is refused by its token budget, never parsed whole.
    const huge = await h.post({ query: `{ ${'a: __typename '.repeat(20_000)} }` });
    expect(huge.status).toBe(401);
  });

  it('lets anonymous callers use the public fields only', async () => {
    expect(await (await h.post({ query: '{ __typename }' })).json()).toEqual({ data: { __typename: 'Query' } });
    const mixed = await h.post({ query: 'mutation { signOut { ok } requestPasswordReset(input: { email: "a@b.co" }) { __typename } }' });
    expect(mixed.status).toBe(401);
  });
});

describe('limits', () => {
  it('refuses a body over the limit with 413', async () => {
    const response = await h.post({ query: `{ viewer { id } } # ${'x'.repeat(DEFAULT_LIMITS.maxBodyBytes)}` }, auth());
    expect(response.status).toBe(413);
  });

  it('refuses too many tokens, too deep, too many aliases and too costly a query, before executing', async () => {
    const tokens = await h.post({ query: `{ ${'viewer { id } '.repeat(2_000)} }` }, auth());
    const parsed = (await tokens.json()) as Body;
    expect(parsed.errors!.map((e) => [e.extensions?.code, e.message])).toEqual([['GRAPHQL_PARSE_FAILED', 'Syntax Error: Document contains more that 5000 tokens. Parsing aborted.']]);

    const aliases = await h.post({ query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }` }, auth());
    expect(await codes(aliases)).toEqual(['TOO_MANY_ALIASES']);

    const deep = 'query($id: ID!) { org(id: $id) { plan { premiumLane { model } } members { edges { node { user { id } } } } apiKeys { edges { node { usage { cost } } } } } }';
    expect(((await (await h.post({ query: deep, variables: { id: '00000000-0000-4000-8000-000000000000' } }, auth())).json()) as Body).errors).toBeUndefined();
    const nested = `{ orgs(first: 100) { edges { node { apiKeys(first: 100) { edges { node { id name prefix last4 status usage { requests cost } } } } members(first: 100) { edges { node { id role user { email } } } } } } } }`;
    expect(await codes(await h.post({ query: nested }, auth()))).toEqual(['QUERY_TOO_COSTLY']);
    // Variables count as the largest page.
    const variablePages = 'query($n: Int) { orgs(first: $n) { edges { node { apiKeys(first: $n) { edges { node { id name prefix last4 status usage { requests } } } } } } } }';
    expect(await codes(await h.post({ query: variablePages, variables: { n: 1 } }, auth()))).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('refuses a query nested past the depth limit', async () => {
    const fragmentLoop = `{ orgs { edges { node { members { edges { node { user { id } } } } plan { premiumLane { tier } continuationLane { tier } fallbackLane { tier } } } } } }`;
    expect(((await (await h.post({ query: fragmentLoop }, auth())).json()) as Body).errors).toBeUndefined();
    const limited = await createHarness({ database: 'pglite', limits: { maxDepth: 3 }, rateLimits: generousRateLimits() });
    try {
      const r = await limited.post({ query: '{ orgs { edges { node { id } } } }' }, { authorization: `Bearer ${limited.token}` });
      expect(await codes(r)).toEqual(['QUERY_TOO_DEEP']);
    } finally {
      await limited.cleanup();
    }
  });

  it('bounds what the largest accepted request can resolve by the cost limit', async () => {
    // An org with 100 keys, asked for everything a page allows: the most a request can fetch.
    const { createApiKey, createOrg } = await import('../testing/fixtures.ts');
    const orgId = await createOrg(h);
    for (let i = 0; i < 100; i++) await createApiKey(h, orgId);
    const widest = `query($id: ID!) { org(id: $id) { apiKeys(first: 100) { edges { node { id orgId name prefix last4 status allowedTiers expiresAt createdAt updatedAt revokedAt } } } } }`;
    const response = await h.post({ query: widest, variables: { id: orgId } }, auth());
    const body = (await response.json()) as { data: { org: { apiKeys: { edges: { node: Record<string, unknown> }[] } } } };
    const values = body.data.org.apiKeys.edges.reduce((n, e) => n + Object.keys(e.node).length, 0);
    expect(values).toBe(1100);
    expect(values).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCost);
    // One level more (each key's usage, a query per key) is over the limit and refused unexecuted.
    const withUsage = widest.replace('revokedAt }', 'revokedAt usage { requests } }');
    expect(await codes(await h.post({ query: withUsage, variables: { id: orgId } }, auth()))).toEqual(['QUERY_TOO_COSTLY']);
  });
});

describe('production defaults', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ inMemory: true });
    await migrate(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function production(options: { introspection?: boolean; corsOrigins?: string[] } = {}) {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const cp = createControlPlane({ db: database.db, store: new MemoryStateStore(), masterKey: Buffer.alloc(32), rateLimits: generousRateLimits(), ...options });
      return cp;
    } finally {
      process.env.NODE_ENV = previous;
    }
  }

  it('turns introspection, suggestions and GraphiQL off unless enabled', async () => {
    const { token } = await createPlatformAdmin(database.db, 'prod@example.com');
    const cp = await production();
    const post = (query: string) =>
      cp.yoga.fetch('http://cp.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
    const introspection = (await (await post('{ __schema { types { name } } }')).json()) as Body;
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const typo = (await (await post('{ viewr { id } }')).json()) as Body;
    expect(typo.errors?.[0]?.message).toBe('Cannot query field "viewr" on type "Query".');
    const page = await cp.yoga.fetch('http://cp.test/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<html');
    await cp.close();
    const open = await production({ introspection: true });
    const allowed = (await (
      await open.yoga.fetch('http://cp.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) })
    ).json()) as Body;
    expect(allowed.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    await open.close();
  });

  it('answers CORS only for allowed origins, and refuses form posts (CSRF prevention)', async () => {
    const cp = await production({ corsOrigins: ['https://console.example.com'] });
    const preflight = (origin: string) =>
      cp.yoga.fetch('http://cp.test/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight('https://console.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await preflight('https://evil.example.com');
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
    await cp.close();
    // Without an allowlist, no CORS headers at all.
    const closed = await production();
    const none = await closed.yoga.fetch('http://cp.test/graphql', { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    await closed.close();
    const form = await closed.yoga.fetch('http://cp.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=mutation%20%7B%20signOut%20%7B%20ok%20%7D%20%7D',
    });
    expect(form.status).toBe(403);
  });
});

describe('GraphiQL', () => {
  it('is served with its assets inline (works offline) and explains the token', async () => {
    const cp = createControlPlane({ db: h.database.db, store: new MemoryStateStore(), masterKey: Buffer.alloc(32), graphiql: true });
    const html = await (await cp.yoga.fetch('http://cp.test/graphql', { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('<html');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
    expect(html).toContain('Bearer tgm_...');
    await cp.close();
  });
});
