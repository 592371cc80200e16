import { randomUUID } from 'node:crypto';
import { adapterFor, byokCredentialAad, BYOK_PROVIDERS, decodeCredential, openSecret, PROVIDERS } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.ts';
import { byokCredentials } from '../db/schema/index.ts';
import { sealByokCredential } from '../services/credentials.ts';
import { rowsOf } from '../services/ledger.ts';
import { captureLogger, createModel, createOrg, PRICE } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

// Shaped like a real OpenAI key, so the log redaction and sanitising are what keeps it out, not luck.
const CANARY = 'sk-CANARYcanaryCANARYcanary0123456789zz';
const MISSING = '00000000-0000-4000-8000-0000000000ee';
const CREDENTIAL_FIELDS = 'id provider last4 createdAt updatedAt';

let h: Harness;
let fake: FakeOpenAI;
const logs: string[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI({ reply: 'pong' });
  h = await createHarness({ logger: captureLogger(logs), providerBaseUrls: { openai: fake.url, fireworks: fake.url, hyperbolic: fake.url } });
});
afterAll(async () => {
  await h?.cleanup();
  await fake?.close();
});

function setCredential(orgId: string, provider: string, credential: string) {
  return mutate(h, 'setByokCredential', 'SetByokCredentialInput', CREDENTIAL_FIELDS, { orgId, provider, credential });
}

async function credentialsOf(orgId: string): Promise<Record<string, unknown>[]> {
  return (await h.gql(`query($id: ID!) { org(id: $id) { byokCredentials { edges { node { ${CREDENTIAL_FIELDS} } } } } }`, { id: orgId })).data!.org.byokCredentials.edges.map((e: { node: Record<string, unknown> }) => e.node);
}

describe('providers', () => {
  it('lists every provider with its credential kind, and which take BYOK credentials', async () => {
    const r = await h.gql(`{ providers { id label protocol credentialKind defaultBaseUrl byok callable } }`);
    const providers = r.data!.providers as { id: string; byok: boolean; callable: boolean }[];
    expect(providers).toHaveLength(21);
    expect(providers.filter((p) => p.byok)).toHaveLength(19);
    expect(providers).toContainEqual({ id: 'bedrock', label: 'AWS Bedrock', protocol: 'bedrock', credentialKind: 'aws', defaultBaseUrl: null, byok: true, callable: adapterFor('bedrock') !== null });
    expect(providers.filter((p) => p.callable).map((p) => p.id)).toEqual([...PROVIDERS.values()].filter((p) => adapterFor(p.protocol)).map((p) => p.id));
    expect(providers).toContainEqual({ id: 'groq', label: 'Groq', protocol: 'openai', credentialKind: 'api_key', defaultBaseUrl: 'https://api.groq.com/openai/v1', byok: true, callable: true });
    expect(providers).toContainEqual(expect.objectContaining({ id: 'custom', byok: false }));
    const anonymous = await h.gql(`{ providers { id } }`, {}, null);
    expect(anonymous.data ?? null).toBeNull();
  });
});

describe('setByokCredential', () => {
  it('stores a credential per org and provider, and replaces it keeping its id', async () => {
    const orgId = await createOrg(h);
    const created = await setCredential(orgId, 'groq', 'gsk_first_groq_key_1111');
    expect(created.data).toEqual({ id: expect.any(String), provider: 'groq', last4: '1111', createdAt: expect.any(String), updatedAt: expect.any(String) });
    const replaced = await setCredential(orgId, 'groq', 'gsk_second_groq_key_2222');
    expect(replaced.data).toMatchObject({ id: created.data.id, provider: 'groq', last4: '2222', createdAt: created.data.createdAt });
    expect(Date.parse(replaced.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.data.updatedAt));
    await setCredential(orgId, 'bedrock', JSON.stringify({ accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 'abcdefghijklmnopqrstuvwxyz0123456789AWSX', region: 'us-east-1' }));
    expect((await credentialsOf(orgId)).map((c) => [c.provider, c.last4])).toEqual([['bedrock', 'AWSX'], ['groq', '2222']]);

    const record = (await h.store.getByokRecord(orgId, 'groq'))!;
    expect(record.id).toBe(created.data.id);
    expect(decodeCredential(openSecret(h.masterKey, record.credentialSealed, byokCredentialAad(orgId, record.id)))).toEqual({ kind: 'api_key', apiKey: 'gsk_second_groq_key_2222' });
  });

  it('refuses a provider without BYOK, a malformed credential and an unknown org, storing nothing', async () => {
    const orgId = await createOrg(h);
    const cases: [string, string, string, string][] = [
      [orgId, 'custom', 'sk-custom-key-secret-0001', 'ValidationError'],
      [orgId, 'deepseek', 'sk-deepseek-key-secret-0002', 'ValidationError'],
      [orgId, 'nope', 'sk-whatever-secret-0003', 'ValidationError'],
      [orgId, 'groq', 'sk-not-groq-secret-0004', 'ValidationError'],
      [orgId, 'anthropic', 'sk-wrong-prefix-secret-0005', 'ValidationError'],
      [orgId, 'azure', '{"endpoint":"http://insecure.example","apiKey":"secret-0006-abcdefgh","apiVersion":"2024-10-21"}', 'ValidationError'],
      [orgId, 'bedrock', '{"accessKeyId":"nope","secretAccessKey":"secret-0007"}', 'ValidationError'],
      [MISSING, 'groq', 'gsk_valid_but_no_org_secret_0008', 'NotFoundError'],
      ['not-an-id', 'groq', 'gsk_valid_but_no_org_secret_0009', 'NotFoundError'],
    ];
    for (const [org, provider, credential, typename] of cases) {
      const r = await setCredential(org, provider, credential);
      expect({ provider, typename: r.typename }).toEqual({ provider, typename });
      expect(JSON.stringify(r)).not.toMatch(/secret-?_?000\d/);
    }
    expect(await credentialsOf(orgId)).toEqual([]);
    expect(await h.store.getByokRecord(orgId, 'groq')).toBeNull();
  });
});

describe('deleteByokCredential', () => {
  it('deletes one org\'s credential and unpublishes it, leaving other orgs\' alone', async () => {
    const orgA = await createOrg(h);
    const orgB = await createOrg(h);
    const a = await setCredential(orgA, 'together', 'together-key-aaaaaaaa');
    await setCredential(orgB, 'together', 'together-key-bbbbbbbb');
    const deleted = await mutate(h, 'deleteByokCredential', 'ByokCredentialKeyInput', 'id', { orgId: orgA, provider: 'together' });
    expect(deleted.data).toEqual({ id: a.data.id });
    expect(await credentialsOf(orgA)).toEqual([]);
    expect(await h.store.getByokRecord(orgA, 'together')).toBeNull();
    expect(await credentialsOf(orgB)).toEqual([expect.objectContaining({ provider: 'together', last4: 'bbbb' })]);
    expect(await h.store.getByokRecord(orgB, 'together')).toMatchObject({ orgId: orgB });
    expect((await mutate(h, 'deleteByokCredential', 'ByokCredentialKeyInput', 'id', { orgId: orgA, provider: 'together' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'deleteByokCredential', 'ByokCredentialKeyInput', 'id', { orgId: MISSING, provider: 'together' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'deleteByokCredential', 'ByokCredentialKeyInput', 'id', { orgId: orgB, provider: 'nope' })).typename).toBe('ValidationError');
    expect(await credentialsOf(orgB)).toHaveLength(1);
  });
});

describe('testByokCredential', () => {
  const TEST_FIELDS = 'ok status latencyMs error upstreamModel';

  it('calls the provider with the org\'s own credential only', async () => {
    fake.reset();
    const orgA = await createOrg(h);
    const orgB = await createOrg(h);
    await setCredential(orgA, 'openai', 'sk-org-a-byok-key-aaaa');
    await setCredential(orgB, 'openai', 'sk-org-b-byok-key-bbbb');
    const seen = fake.requests.length;
    const a = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', TEST_FIELDS, { orgId: orgA, provider: 'openai', upstreamModel: 'gpt-x' });
    const b = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', TEST_FIELDS, { orgId: orgB, provider: 'openai', upstreamModel: 'gpt-x' });
    expect(a.data).toEqual({ ok: true, status: 200, latencyMs: expect.any(Number), error: null, upstreamModel: 'gpt-x' });
    expect(b.data).toMatchObject({ ok: true });
    expect(fake.requests.slice(seen).map((r) => r.headers.authorization)).toEqual(['Bearer sk-org-a-byok-key-aaaa', 'Bearer sk-org-b-byok-key-bbbb']);
    // OpenAI itself takes max_completion_tokens.
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'gpt-x', max_completion_tokens: 1 });
  });

  it('defaults to the upstream model of a BYOK target for the provider, and needs one otherwise', async () => {
    fake.reset();
    const orgId = await createOrg(h);
    await setCredential(orgId, 'hyperbolic', 'hyperbolic-key-0000');
    const none = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', TEST_FIELDS, { orgId, provider: 'hyperbolic' });
    expect(none).toMatchObject({ typename: 'ValidationError', message: expect.stringContaining('no model has a BYOK target for hyperbolic') });
    await setCredential(orgId, 'fireworks', 'fw_fireworks_key_0000');
    await createModel(h, { byokTargets: [{ provider: 'fireworks', upstreamModel: 'accounts/fireworks/models/x', listPrice: PRICE }] });
    const r = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', TEST_FIELDS, { orgId, provider: 'fireworks' });
    expect(r.data).toMatchObject({ ok: true, upstreamModel: 'accounts/fireworks/models/x' });
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'accounts/fireworks/models/x', max_tokens: 1 });
    const noCredential = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', TEST_FIELDS, { orgId, provider: 'groq', upstreamModel: 'x' });
    expect(noCredential.typename).toBe('NotFoundError');
  });

  it('can call every BYOK provider: each protocol has an adapter', () => {
    expect(BYOK_PROVIDERS.filter((id) => adapterFor(PROVIDERS.get(id)!.protocol) === null)).toEqual([]);
  });
});

describe('BYOK endpoints', () => {
  const azure = (endpoint: string) => JSON.stringify({ endpoint, apiKey: 'azure-key-0123456789', apiVersion: '2024-10-21' });

  it('refuses a customer endpoint that is not a public address, whatever its spelling, storing nothing', async () => {
    const orgId = await createOrg(h);
    for (const endpoint of ['https://127.0.0.1', 'https://2130706433', 'https://0x7f.1', 'https://0177.0.0.1', 'https://[::ffff:127.0.0.1]', 'https://[::ffff:7f00:1]', 'https://localhost', 'https://10.0.0.8', 'https://169.254.169.254', 'https://metadata.google.internal', 'https://[fd00:ec2::254]']) {
      const r = await setCredential(orgId, 'azure', azure(endpoint));
      expect({ endpoint, typename: r.typename }).toEqual({ endpoint, typename: 'ValidationError' });
      expect(r.message).toMatch(/^endpoint: .* (is|resolves to) an? [a-z -]+ address; it must be a public address$/);
    }
    expect(await credentialsOf(orgId)).toEqual([]);
    expect((await setCredential(orgId, 'azure', azure('https://my-resource.openai.azure.com'))).typename).toBe('MutationSetByokCredentialSuccess');
  });

  it('checks the resolved address at connect time, so a stored endpoint that resolves to loopback sends nothing', async () => {
    const orgId = await createOrg(h);
    // As if stored before the check existed (or through a name the URL cannot show is local).
    const id = randomUUID();
    const credential = { kind: 'azure' as const, endpoint: `http://localhost:${new URL(fake.url).port}`, apiKey: 'azure-key-0123456789', apiVersion: '2024-10-21', deployment: null };
    await h.database.db.insert(byokCredentials).values({ id, orgId, provider: 'azure', credentialSealed: sealByokCredential(h.masterKey, orgId, id, credential), credentialLast4: '6789' });
    const seen = fake.requests.length;
    const r = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', 'ok status error', { orgId, provider: 'azure', upstreamModel: 'gpt-4o' });
    expect(r.data).toEqual({ ok: false, status: null, error: 'upstream address not allowed: localhost resolves to a loopback address; nothing was sent' });
    expect(fake.requests.length).toBe(seen);
  });
});

describe('BYOK secrecy', () => {
  it('keeps a canary credential out of every response, error, log line and plaintext column', async () => {
    const orgId = await createOrg(h);
    logs.length = 0;
    expect((await setCredential(orgId, 'openai', CANARY)).data).toMatchObject({ last4: CANARY.slice(-4) });
    // The same secret refused for another provider: the error must not echo it.
    const refused = await setCredential(orgId, 'groq', CANARY);
    expect(refused.typename).toBe('ValidationError');
    // The provider rejects the key and echoes it in its error body, as OpenAI does.
    fake.setBehavior({ status: 401, errorBody: JSON.stringify({ error: { message: `Incorrect API key provided: ${CANARY}`, type: 'invalid_request_error', code: 'invalid_api_key' } }) });
    let tested;
    try {
      tested = await mutate(h, 'testByokCredential', 'TestByokCredentialInput', 'ok status error', { orgId, provider: 'openai', upstreamModel: 'gpt-x' });
    } finally {
      fake.reset();
    }
    expect(tested.data).toMatchObject({ ok: false, status: 401, error: expect.stringContaining('Incorrect API key provided') });
    const everything = await h.gql(`{
      orgs { edges { node { id byokCredentials { edges { node { id provider last4 createdAt updatedAt } } } apiKeys { edges { node { id last4 } } } } } }
      channels { edges { node { id credentialLast4 } } } models { edges { node { id byokTargets { provider } } } } providers { id } settings { byokFeeBps }
      auditLog(first: 100) { edges { node { action details } } }
    }`);
    expect(everything.errors).toBeUndefined();
    expect(logs.some((l) => l.startsWith('byok credential tested'))).toBe(true);

    for (const text of [JSON.stringify(refused), JSON.stringify(tested), JSON.stringify(everything), logs.join('\n')]) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(CANARY.slice(3, -4));
    }
    // Every row of every table, as text: the canary is nowhere in plaintext.
    const tables = rowsOf<{ table_name: string }>(await h.database.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public'`));
    expect(tables.map((t) => t.table_name)).toContain('byok_credentials');
    for (const { table_name } of tables) {
      const dump = rowsOf<{ dump: string | null }>(await h.database.db.execute(sql`select string_agg(t::text, E'\n') as dump from ${sql.identifier(table_name)} t`))[0]!.dump ?? '';
      expect({ table_name, leaked: dump.includes(CANARY.slice(3, -4)) }).toEqual({ table_name, leaked: false });
    }
    const record = (await h.store.getByokRecord(orgId, 'openai'))!;
    expect(JSON.stringify(record)).not.toContain(CANARY.slice(3, -4));
  });
});
