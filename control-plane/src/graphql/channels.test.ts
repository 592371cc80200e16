import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adapterFor, channelCredentialAad, decodeCredential, openSecret, PROVIDERS } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.ts';
import { captureLogger, COST, createChannel, createModel, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

const KEY = 'sk-channel-test-key-abcd';
const awsCredential = (region: string) => JSON.stringify({ accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 'abcdefghijklmnopqrstuvwxyz0123456789WXYZ', region });
const LEAKED = 'sk-proj-LEAKEDleakedLEAKED0123456789';

let h: Harness;
let fake: FakeOpenAI;
const logs: string[] = [];

beforeAll(async () => {
  h = await createHarness({ logger: captureLogger(logs) });
  fake = await startFakeOpenAI({ reply: 'pong', usage: { promptTokens: 1, completionTokens: 1 } });
});
afterAll(async () => {
  await h?.cleanup();
  await fake?.close();
});

const CHANNEL_FIELDS = `id name provider providerInfo { id label protocol } baseUrl tier credentialLast4 enabled
  timeouts { connectMs firstByteMs idleMs totalMs } retries modelMap { upstreamModel channelModel } extraHeaders { name value } maxConcurrency`;

async function channel(id: string): Promise<Record<string, any> | null> {
  return (await h.gql(`query($id: ID!) { channel(id: $id) { ${CHANNEL_FIELDS} } }`, { id })).data!.channel;
}

async function channelCount(): Promise<number> {
  return (await h.gql(`{ channels(first: 100) { edges { node { id } } } }`)).data!.channels.edges.length;
}

async function published(id: string) {
  return (await h.store.getRouteTable())?.channels[id];
}

describe('createChannel', () => {
  it('creates a channel with the provider\'s defaults, sealed, shown by its last 4 characters', async () => {
    const name = unique('openai');
    const r = await mutate(h, 'createChannel', 'CreateChannelInput', CHANNEL_FIELDS, { name, provider: 'openai', tier: 'resale', credential: KEY });
    expect(r.data).toEqual({
      id: expect.any(String), name, provider: 'openai', providerInfo: { id: 'openai', label: 'OpenAI', protocol: 'openai' },
      baseUrl: 'https://api.openai.com/v1', tier: 'resale', credentialLast4: 'abcd', enabled: true,
      timeouts: { connectMs: 10_000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 600_000 }, retries: 0, modelMap: [], extraHeaders: [], maxConcurrency: 1000,
    });
    const row = (await h.database.db.query.providerChannels.findFirst({ where: { id: r.data.id } }))!;
    expect(JSON.stringify(row)).not.toContain(KEY);
    expect(decodeCredential(openSecret(h.masterKey, row.credentialSealed, channelCredentialAad(row.id)))).toEqual({ kind: 'api_key', apiKey: KEY });
    expect(await published(r.data.id)).toMatchObject({ id: r.data.id, provider: 'openai', tier: 'resale' });
  });

  it('takes an AWS credential as JSON, shows the last 4 of its secret, and calls its region', async () => {
    const r = await mutate(h, 'createChannel', 'CreateChannelInput', 'id provider baseUrl credentialLast4', {
      name: unique('bedrock'), provider: 'bedrock', tier: 'cheap', credential: awsCredential('eu-west-1'),
    });
    expect(r.data).toEqual({ id: expect.any(String), provider: 'bedrock', baseUrl: 'https://bedrock-runtime.eu-west-1.amazonaws.com', credentialLast4: 'WXYZ' });
    const moved = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id: r.data.id, credential: awsCredential('us-east-2') });
    expect(moved.data).toEqual({ baseUrl: 'https://bedrock-runtime.us-east-2.amazonaws.com' });
    // A base URL the operator set (a VPC endpoint, say) stays when the credential changes.
    await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id: r.data.id, baseUrl: 'https://vpce-1.bedrock-runtime.us-east-2.vpce.amazonaws.com' });
    const kept = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id: r.data.id, credential: awsCredential('us-west-2') });
    expect(kept.data).toEqual({ baseUrl: 'https://vpce-1.bedrock-runtime.us-east-2.vpce.amazonaws.com' });
    expect((await published(r.data.id))!.baseUrl).toBe('https://vpce-1.bedrock-runtime.us-east-2.vpce.amazonaws.com');
  });

  it('refuses a bad provider, base URL or credential without echoing the credential, and creates nothing', async () => {
    const before = await channelCount();
    const cases: [Record<string, unknown>, string][] = [
      [{ provider: 'nope' }, 'provider'],
      [{ provider: 'custom', baseUrl: null }, 'baseUrl'],
      [{ provider: 'custom', baseUrl: 'https://example.com/v1?key=1' }, 'baseUrl'],
      [{ provider: 'groq', credential: 'sk-not-a-groq-key-secret-0001' }, 'credential'],
      [{ provider: 'openai', credential: 'sk-has spaces in it' }, 'credential'],
      [{ provider: 'bedrock', credential: '{"accessKeyId":"AKIAABCDEFGHIJKLMNOP","secretAccessKey":"short-secret-0002","region":"eu-west-1"}' }, 'credential.secretAccessKey'],
      [{ provider: 'azure', credential: 'not json secret-0003' }, 'credential'],
      [{ name: '   ' }, 'name'],
    ];
    for (const [input, field] of cases) {
      const full = { name: unique('bad'), provider: 'openai', tier: 'resale', credential: KEY, ...input };
      const r = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', full);
      expect({ input, typename: r.typename }).toEqual({ input, typename: 'ValidationError' });
      const withField = await h.gql(`mutation($input: CreateChannelInput!) { createChannel(input: $input) { ... on ValidationError { field message } } }`, { input: full });
      expect(withField.data!.createChannel.field).toBe(field);
      expect(JSON.stringify(withField)).not.toMatch(/secret-000\d|sk-not-a-groq|has spaces/);
    }
    const byok = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', { name: unique('byok'), provider: 'openai', tier: 'byok', credential: KEY });
    expect(byok.typename).toBe('none');
    expect(byok.errors?.[0]?.message).toMatch(/OperatorTier/);
    expect(await channelCount()).toBe(before);
  });

  it('refuses credential headers, out-of-range settings and a taken name', async () => {
    const taken = unique('taken');
    await createChannel(h, { name: taken });
    const before = await channelCount();
    const cases: [Record<string, unknown>, string][] = [
      [{ extraHeaders: [{ name: 'Authorization', value: 'Bearer secret-0004' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'x-api-key', value: 'secret-0005' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'X-Amz-Security-Token', value: 'secret-0006' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'api-key', value: 'secret-0007' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'cookie', value: 'session=secret-0008' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'proxy-authorization', value: 'Basic secret-0009' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'x-title', value: 'a\r\nx-injected: 1' }] }, 'ValidationError'],
      [{ extraHeaders: [{ name: 'bad name', value: 'v' }] }, 'ValidationError'],
      [{ timeouts: { connectMs: 5000, totalMs: 1000 } }, 'ValidationError'],
      [{ timeouts: { idleMs: 0 } }, 'ValidationError'],
      [{ retries: 6 }, 'ValidationError'],
      [{ maxConcurrency: 0 }, 'ValidationError'],
      [{ modelMap: [{ upstreamModel: 'a', channelModel: 'b' }, { upstreamModel: 'a', channelModel: 'c' }] }, 'ValidationError'],
      [{ name: taken }, 'ConflictError'],
    ];
    for (const [input, typename] of cases) {
      const r = await mutate(h, 'createChannel', 'CreateChannelInput', 'id', { name: unique('c'), provider: 'openai', tier: 'cheap', credential: KEY, ...input });
      expect({ input, typename: r.typename }).toEqual({ input, typename });
      expect(r.message).not.toMatch(/secret-00\d\d/);
    }
    expect(await channelCount()).toBe(before);
  });
});

describe('updateChannel', () => {
  it('changes settings and replaces the credential, republishing', async () => {
    const id = await createChannel(h, { credential: KEY });
    const name = unique('renamed');
    const r = await mutate(h, 'updateChannel', 'UpdateChannelInput', CHANNEL_FIELDS, {
      id, name, tier: 'cheap', credential: 'sk-replacement-key-wxyz', retries: 3, maxConcurrency: 5,
      timeouts: { firstByteMs: 1234 }, modelMap: [{ upstreamModel: 'gpt-4o', channelModel: 'openai/gpt-4o' }],
      extraHeaders: [{ name: 'X-Title', value: 'Tollgate' }],
    });
    expect(r.data).toMatchObject({
      name, tier: 'cheap', credentialLast4: 'wxyz', retries: 3, maxConcurrency: 5, baseUrl: 'http://127.0.0.1:9/v1',
      timeouts: { connectMs: 10_000, firstByteMs: 1234, idleMs: 60_000, totalMs: 600_000 },
      modelMap: [{ upstreamModel: 'gpt-4o', channelModel: 'openai/gpt-4o' }], extraHeaders: [{ name: 'x-title', value: 'Tollgate' }],
    });
    const record = (await published(id))!;
    expect(record).toMatchObject({ name, tier: 'cheap', retries: 3, modelMap: { 'gpt-4o': 'openai/gpt-4o' } });
    expect(decodeCredential(openSecret(h.masterKey, record.credentialSealed, channelCredentialAad(id)))).toEqual({ kind: 'api_key', apiKey: 'sk-replacement-key-wxyz' });
  });

  it('validates the stored credential for a new provider and moves to its base URL', async () => {
    const id = await createChannel(h, { credential: KEY });
    const refused = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id, provider: 'groq' });
    expect(refused).toMatchObject({ typename: 'ValidationError', message: expect.stringContaining('give a new credential') });
    expect(refused.message).not.toContain(KEY);
    expect(await channel(id)).toMatchObject({ provider: 'custom', credentialLast4: 'abcd' });
    const moved = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'provider baseUrl credentialLast4', { id, provider: 'groq', credential: 'gsk_groq_key_for_channel_9876' });
    expect(moved.data).toEqual({ provider: 'groq', baseUrl: 'https://api.groq.com/openai/v1', credentialLast4: '9876' });
    const reset = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id, baseUrl: 'https://proxy.example/groq/v1/' });
    expect(reset.data).toEqual({ baseUrl: 'https://proxy.example/groq/v1' });
    const back = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id, baseUrl: null });
    expect(back.data).toEqual({ baseUrl: 'https://api.groq.com/openai/v1' });
  });

  it('refuses unknown channels, taken names and bad settings, changing nothing', async () => {
    const taken = unique('taken');
    await createChannel(h, { name: taken });
    const id = await createChannel(h);
    const before = await channel(id);
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id: '00000000-0000-4000-8000-00000000000a', name: 'x' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id: 'not-an-id' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id, name: taken })).typename).toBe('ConflictError');
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id, extraHeaders: [{ name: 'x-amz-date', value: '1' }] })).typename).toBe('ValidationError');
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'id', { id, credential: 'short' })).typename).toBe('ValidationError');
    expect(await channel(id)).toEqual(before);
  });
});

describe('enableChannel and disableChannel', () => {
  it('take a channel out of the route table and back', async () => {
    const id = await createChannel(h);
    const off = await mutate(h, 'disableChannel', 'ChannelIdInput', 'enabled', { id });
    expect(off.data).toEqual({ enabled: false });
    expect(await published(id)).toBeUndefined();
    const on = await mutate(h, 'enableChannel', 'ChannelIdInput', 'enabled', { id });
    expect(on.data).toEqual({ enabled: true });
    expect(await published(id)).toMatchObject({ id, enabled: true });
    expect((await mutate(h, 'disableChannel', 'ChannelIdInput', 'id', { id: '00000000-0000-4000-8000-00000000000b' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'enableChannel', 'ChannelIdInput', 'id', { id: '00000000-0000-4000-8000-00000000000b' })).typename).toBe('NotFoundError');
  });
});

describe('deleteChannel', () => {
  it('refuses while models target the channel, naming them; deletes once they do not', async () => {
    const id = await createChannel(h);
    const b = await createModel(h, { name: unique('b-model'), targets: [{ channelId: id, upstreamModel: 'x', cost: COST }] });
    const a = await createModel(h, { name: unique('a-model'), targets: [{ channelId: id, upstreamModel: 'y', cost: COST }, { channelId: id, upstreamModel: 'z', cost: COST }] });
    const refused = await h.gql(`mutation($input: ChannelIdInput!) { deleteChannel(input: $input) { __typename ... on InUseError { message usedBy } } }`, { input: { id } });
    expect(refused.data!.deleteChannel).toEqual({ __typename: 'InUseError', message: expect.stringContaining('disable the channel instead'), usedBy: [a.name, b.name] });
    expect(await channel(id)).not.toBeNull();

    const targets = (await h.gql(`query($id: ID!) { channel(id: $id) { targets { id } } }`, { id })).data!.channel.targets as { id: string }[];
    for (const t of targets) expect((await mutate(h, 'removeModelTarget', 'ModelTargetIdInput', 'id', { id: t.id })).typename).toBe('MutationRemoveModelTargetSuccess');
    const deleted = await mutate(h, 'deleteChannel', 'ChannelIdInput', 'id', { id });
    expect(deleted.data).toEqual({ id });
    expect(await channel(id)).toBeNull();
    expect(await published(id)).toBeUndefined();
    expect((await mutate(h, 'deleteChannel', 'ChannelIdInput', 'id', { id })).typename).toBe('NotFoundError');
  });
});

describe('testChannel', () => {
  const TEST_FIELDS = 'ok status latencyMs error upstreamModel';

  it('makes a one-token call through the adapter with the channel\'s settings and reports ok and latency', async () => {
    fake.reset();
    const seen = fake.requests.length;
    const id = await createChannel(h, {
      baseUrl: fake.url, credential: KEY, modelMap: [{ upstreamModel: 'gpt-x', channelModel: 'vendor/gpt-x' }], extraHeaders: [{ name: 'X-Title', value: 'Tollgate' }],
    });
    const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
    expect(r.data).toEqual({ ok: true, status: 200, latencyMs: expect.any(Number), error: null, upstreamModel: 'vendor/gpt-x' });
    expect(r.data.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fake.requests.length).toBe(seen + 1);
    const sent = fake.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}`, 'x-title': 'Tollgate' } });
    expect(sent.body).toEqual({ model: 'vendor/gpt-x', messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
  });

  it('uses the upstream model of the channel\'s first target when none is given', async () => {
    fake.reset();
    const id = await createChannel(h, { baseUrl: fake.url });
    const none = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id });
    expect(none).toMatchObject({ typename: 'ValidationError', message: expect.stringContaining('upstreamModel is required') });
    await createModel(h, { targets: [{ channelId: id, upstreamModel: 'second', priority: 2, cost: COST }, { channelId: id, upstreamModel: 'first', priority: 1, cost: COST }] });
    const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id });
    expect(r.data).toMatchObject({ ok: true, upstreamModel: 'first' });
  });

  it('reports an upstream 401 with the provider\'s message sanitised, never the secret it contains', async () => {
    fake.setBehavior({ status: 401, errorBody: JSON.stringify({ error: { message: `Incorrect API key provided: ${LEAKED}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }) });
    try {
      const id = await createChannel(h, { baseUrl: fake.url });
      const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
      expect(r.data).toEqual({ ok: false, status: 401, latencyMs: expect.any(Number), error: expect.stringMatching(/^HTTP 401: invalid_request_error \/ invalid_api_key \/ Incorrect API key provided/), upstreamModel: 'gpt-x' });
      expect(JSON.stringify(r)).not.toContain(LEAKED);
      expect(logs.join('\n')).not.toContain(LEAKED);
    } finally {
      fake.reset();
    }
  });

  it('reports a 200 that is not a chat completion as a failure', async () => {
    const bodies = ['{"hello":"world"}', '<html>a login page</html>'];
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(bodies.shift()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const id = await createChannel(h, { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
      const object = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
      expect(object.data).toMatchObject({ ok: false, status: 200, error: 'HTTP 200, but not a chat completion: no choices' });
      const html = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
      expect(html.data).toMatchObject({ ok: false, status: 200, error: 'HTTP 200, but not a chat completion: the provider answered with a body that is not JSON' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a refused connection', async () => {
    const server = await startFakeOpenAI();
    const id = await createChannel(h, { baseUrl: server.url });
    await server.close();
    const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
    expect(r.data).toMatchObject({ ok: false, status: null, error: 'connection refused' });
  });

  it('gives up at the channel\'s first-byte timeout', async () => {
    fake.setBehavior({ hang: true });
    try {
      const id = await createChannel(h, { baseUrl: fake.url, timeouts: { firstByteMs: 200 } });
      const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'gpt-x' });
      expect(r.data).toMatchObject({ ok: false, status: null, error: 'no response within 200 ms (first-byte timeout)' });
      expect(r.data.latencyMs).toBeGreaterThanOrEqual(190);
    } finally {
      fake.reset();
    }
  });

  it('can call every provider it lists: each protocol has an adapter', () => {
    expect([...PROVIDERS.values()].filter((p) => adapterFor(p.protocol) === null).map((p) => p.id)).toEqual([]);
  });

  it.runIf(adapterFor('bedrock'))('signs the request when the protocol signs (AWS SigV4)', async () => {
    fake.reset();
    const id = await createChannel(h, { provider: 'bedrock', baseUrl: fake.url, credential: awsCredential('eu-west-1') });
    await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id, upstreamModel: 'anthropic.claude-x' });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toContain('/model/anthropic.claude-x/');
    expect(sent.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
    expect(JSON.stringify(sent.headers)).not.toContain('abcdefghijklmnopqrstuvwxyz0123456789WXYZ');
  });

  it('refuses an unknown channel', async () => {
    const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id: '00000000-0000-4000-8000-00000000000c', upstreamModel: 'x' });
    expect(r.typename).toBe('NotFoundError');
  });
});

describe('upstream address safety', () => {
  const TEST_FIELDS = 'ok status error';
  const fakePort = (): string => new URL(fake.url).port;

  async function saveChannel(baseUrl: string, extra: Record<string, unknown> = {}) {
    return mutate(h, 'createChannel', 'CreateChannelInput', 'id baseUrl allowPrivateNetwork', { name: unique('net'), provider: 'custom', tier: 'resale', credential: KEY, baseUrl, ...extra });
  }

  it('allowPrivateNetwork defaults to false, is set on create and update, and is published', async () => {
    const created = await saveChannel(fake.url);
    expect(created.data).toMatchObject({ allowPrivateNetwork: false });
    expect(await published(created.data.id)).toMatchObject({ allowPrivateNetwork: false });
    const opened = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'allowPrivateNetwork', { id: created.data.id, allowPrivateNetwork: true });
    expect(opened.data).toEqual({ allowPrivateNetwork: true });
    expect(await published(created.data.id)).toMatchObject({ allowPrivateNetwork: true });
    // Left out, it keeps its value.
    expect((await mutate(h, 'updateChannel', 'UpdateChannelInput', 'allowPrivateNetwork', { id: created.data.id, retries: 1 })).data).toEqual({ allowPrivateNetwork: true });
    const explicit = await saveChannel(fake.url, { allowPrivateNetwork: true });
    expect(explicit.data).toMatchObject({ allowPrivateNetwork: true });
  });

  it.each([
    ['a decimal IPv4', (p: string) => `http://2130706433:${p}/v1`, '127.0.0.1 is'],
    ['a hex IPv4', (p: string) => `http://0x7f.1:${p}/v1`, '127.0.0.1 is'],
    ['an octal IPv4', (p: string) => `http://0177.0.0.1:${p}/v1`, '127.0.0.1 is'],
    ['an IPv4-mapped IPv6 (dotted)', (p: string) => `http://[::ffff:127.0.0.1]:${p}/v1`, '::ffff:7f00:1 is'],
    ['an IPv4-mapped IPv6 (hex)', (p: string) => `http://[::ffff:7f00:1]:${p}/v1`, '::ffff:7f00:1 is'],
    ['a name that resolves to loopback', (p: string) => `http://localhost:${p}/v1`, 'localhost resolves to'],
  ])('testChannel refuses %s spelling of loopback without allowPrivateNetwork, sending nothing', async (_what, url, host) => {
    const saved = await saveChannel(url(fakePort()));
    expect(saved.typename).toBe('MutationCreateChannelSuccess');
    const seen = fake.requests.length;
    const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id: saved.data.id, upstreamModel: 'gpt-x' });
    expect(r.data).toEqual({ ok: false, status: null, error: `upstream address not allowed: ${host} a loopback address; nothing was sent` });
    expect(fake.requests.length).toBe(seen);
  });

  it('keeps the URL as WHATWG parsing normalises it, so what is shown is what is checked', async () => {
    expect((await saveChannel(`http://2130706433:${fakePort()}/v1`)).data.baseUrl).toBe(`http://127.0.0.1:${fakePort()}/v1`);
    expect((await saveChannel(`http://0x7f.1:${fakePort()}/v1`)).data.baseUrl).toBe(`http://127.0.0.1:${fakePort()}/v1`);
    expect((await saveChannel(`http://[::ffff:127.0.0.1]:${fakePort()}/v1`)).data.baseUrl).toBe(`http://[::ffff:7f00:1]:${fakePort()}/v1`);
  });

  it('refuses, when saved, a URL pointing at Tollgate\'s own listeners or at an address no channel may reach', async () => {
    const ours = 47_001;
    h.controlPlane.services.listenerPorts.add(ours);
    try {
      for (const baseUrl of [`http://127.0.0.1:${ours}/v1`, `http://2130706433:${ours}/v1`, `http://[::ffff:127.0.0.1]:${ours}/v1`, `http://[::1]:${ours}/v1`, `http://localhost:${ours}/v1`, `http://0.0.0.0:${ours}/v1`]) {
        const r = await saveChannel(baseUrl, { allowPrivateNetwork: true });
        expect({ baseUrl, typename: r.typename }).toEqual({ baseUrl, typename: 'ValidationError' });
        expect(r.message).toMatch(/^baseUrl: .* is this gateway's own listener \(a loop\); a channel must point at a provider$/);
      }
      for (const [baseUrl, kind] of [['http://169.254.169.254/latest', 'a cloud metadata address'], ['http://metadata.google.internal/v1', 'a cloud metadata address'], ['http://[ff02::1]/v1', 'a multicast address']]) {
        const r = await saveChannel(baseUrl!, { allowPrivateNetwork: true });
        expect({ baseUrl, typename: r.typename }).toEqual({ baseUrl, typename: 'ValidationError' });
        expect(r.message).toContain(`baseUrl: `);
        expect(r.message).toContain(kind);
      }
      // Another port on this host is the operator's business; an update cannot move a channel onto ours.
      const other = await saveChannel(`http://127.0.0.1:${ours + 1}/v1`, { allowPrivateNetwork: true });
      expect(other.typename).toBe('MutationCreateChannelSuccess');
      const moved = await mutate(h, 'updateChannel', 'UpdateChannelInput', 'baseUrl', { id: other.data.id, baseUrl: `http://localhost:${ours}/v1` });
      expect(moved).toMatchObject({ typename: 'ValidationError', message: expect.stringMatching(/^baseUrl: localhost:47001 is this gateway's own listener/) });
      expect((await channel(other.data.id))!.baseUrl).toBe(`http://127.0.0.1:${ours + 1}/v1`);
    } finally {
      h.controlPlane.services.listenerPorts.delete(ours);
    }
  });

  it('testChannel refuses Tollgate\'s own listener at connect time, even with a private network allowed', async () => {
    const saved = await saveChannel(`http://localhost:${fakePort()}/v1`, { allowPrivateNetwork: true });
    // The port became one of ours after the channel was saved (a changed DATA_PLANE_PORT).
    h.controlPlane.services.listenerPorts.add(Number(fakePort()));
    try {
      const seen = fake.requests.length;
      const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id: saved.data.id, upstreamModel: 'gpt-x' });
      expect(r.data).toEqual({ ok: false, status: null, error: `upstream address not allowed: localhost:${fakePort()} is this gateway's own listener (a loop); nothing was sent` });
      expect(fake.requests.length).toBe(seen);
    } finally {
      h.controlPlane.services.listenerPorts.delete(Number(fakePort()));
    }
  });

  it.each([301, 307])('testChannel reports a %s as the answer and never follows it', async (status) => {
    const redirect = createServer((_req, res) => res.writeHead(status, { location: `${fake.url}/chat/completions` }).end());
    await new Promise<void>((resolve) => redirect.listen(0, '127.0.0.1', resolve));
    try {
      const saved = await saveChannel(`http://127.0.0.1:${(redirect.address() as AddressInfo).port}/v1`, { allowPrivateNetwork: true });
      const seen = fake.requests.length;
      const r = await mutate(h, 'testChannel', 'TestChannelInput', TEST_FIELDS, { id: saved.data.id, upstreamModel: 'gpt-x' });
      expect(r.data).toMatchObject({ ok: false, status });
      expect(fake.requests.length).toBe(seen);
    } finally {
      await new Promise((resolve) => redirect.close(resolve));
    }
  });
});
