import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, formatCredits, parseCredits, usage } from '@tollgate/shared';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.ts';
import { eventually, launchOf, repoRoot, runCommand, startLaunch, startNodeProcess, type RunningProcess } from './support/processes.ts';
import { freePort } from './support/servers.ts';
import { createTestDatabase, createTestRedis, type TestService } from './support/services.ts';

/**
 * The walking skeleton end to end, as a user drives it (issue 2, steps 2-5): the `tollgate` CLI,
 * GraphQL over HTTP, and the official `openai` SDK over HTTP, against a fake upstream. Once in
 * embedded mode (one process, PGlite, in-process store) and once with Postgres + Redis, the control
 * plane and two data planes as separate processes.
 */
const UPSTREAM_KEY = `sk-upstream-${randomBytes(12).toString('hex')}`;
const USAGE = { promptTokens: 1234, completionTokens: 567 };
// Odd prices so rounding up to the nanocredit matters: 1234 * 0.123456789 + 567 * 0.987654321
// credits per million tokens = 712,345.679... nanocredits, charged as 712,346.
const SELL = { input: '0.123456789', output: '0.987654321' };
const SELL_INPUT = parseCredits(SELL.input);
const SELL_OUTPUT = parseCredits(SELL.output);
const EXPECTED_COST = costOf(usage({ input: USAGE.promptTokens, output: USAGE.completionTokens }), {
  input: SELL_INPUT, cachedInput: SELL_INPUT, cacheWrite: SELL_INPUT, output: SELL_OUTPUT, reasoning: SELL_OUTPUT,
});

interface Mode {
  name: string;
  start(fake: FakeOpenAI): Promise<{ controlUrl: string; dataUrls: string[]; cliEnv: Record<string, string>; processes: RunningProcess[]; cleanup(): Promise<void> }>;
}

const LISTENING_DATA = /data plane listening on (http:\/\/[0-9.:]+)/;
const LISTENING_CONTROL = /control plane listening on (http:\/\/[0-9.:]+)\/graphql/;

const embedded: Mode = {
  name: 'embedded (PGlite + in-process store)',
  async start() {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-'));
    const env = {
      TOLLGATE_DATA_DIR: dataDir,
      CONTROL_PLANE_PORT: String(await freePort()),
      DATA_PLANE_PORT: String(await freePort()),
      TOLLGATE_HOST: '127.0.0.1',
    };
    // As `npm start` runs it: built, on plain node.
    execFileSync(process.execPath, ['control-plane/build.mjs'], { cwd: repoRoot });
    const launch = launchOf('start');
    const server = startLaunch(launch, env);
    expect(server.child.spawnargs.slice(1)).toEqual(['--liftoff-only', 'control-plane/dist/main.mjs']);
    // glibc's allocator held on to freed memory of the worker thread and PGlite (see the README):
    // the process runs with the settings `npm start` gives it.
    const environ = readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => v.startsWith('MALLOC_'))).toEqual(['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=131072']);
    const control = LISTENING_CONTROL.exec(await server.waitForOutput((l) => LISTENING_CONTROL.test(l), 60_000))![1]!;
    const data = LISTENING_DATA.exec(await server.waitForOutput((l) => LISTENING_DATA.test(l), 60_000))![1]!;
    // The control plane's thread runs below the data plane's (control-plane/src/thread/priority.ts): of
    // the process's threads, that one alone has a nice value of 5.
    const pid = server.child.pid!;
    const nices = readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return { main: tid === String(pid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
    });
    expect([nices.find((t) => t.main)!.nice, nices.filter((t) => t.nice === 5).length, nices.filter((t) => t.nice !== 0 && t.nice !== 5)]).toEqual([0, 1, []]);
    // A new master key is announced with a warning to back it up; everything created is owner-only.
    expect(server.output.join('\n')).toContain('generated a new master key');
    for (const file of ['master.key', 'pgdata', 'pgdata/PG_VERSION', 'control.sock']) expect({ file, mode: statSync(join(dataDir, file)).mode & 0o077 }).toEqual({ file, mode: 0 });
    return {
      controlUrl: control,
      dataUrls: [data],
      cliEnv: { TOLLGATE_DATA_DIR: dataDir },
      processes: [server],
      async cleanup() {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const distributed: Mode = {
  name: 'Postgres + Redis, control plane and two data planes as processes',
  async start() {
    const services: TestService[] = [await createTestDatabase(), await createTestRedis()];
    const [db, redis] = services as [TestService, TestService];
    const shared = { REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: randomBytes(32).toString('base64'), TOLLGATE_HOST: '127.0.0.1' };
    const controlEnv = { ...shared, DATABASE_URL: db.url, CONTROL_PLANE_PORT: String(await freePort()) };
    const control = startNodeProcess('control-plane/src/main.ts', ['--control-plane-only'], controlEnv);
    const controlUrl = LISTENING_CONTROL.exec(await control.waitForOutput((l) => LISTENING_CONTROL.test(l), 60_000))![1]!;
    const dataPlanes = [
      startNodeProcess('data-plane/src/main.ts', [], { ...shared, DATA_PLANE_PORT: String(await freePort()) }),
      startNodeProcess('data-plane/src/main.ts', [], { ...shared, DATA_PLANE_PORT: String(await freePort()) }),
    ];
    const dataUrls = await Promise.all(
      dataPlanes.map(async (p) => LISTENING_DATA.exec(await p.waitForOutput((l) => LISTENING_DATA.test(l), 60_000))![1]!),
    );
    return {
      controlUrl,
      dataUrls,
      cliEnv: { DATABASE_URL: db.url },
      processes: [control, ...dataPlanes],
      async cleanup() {
        await Promise.all([control, ...dataPlanes].map((p) => p.stop()));
        for (const service of services) await service.cleanup();
      },
    };
  },
};

describe.each([embedded, distributed])('end to end: $name', (mode) => {
  let fake: FakeOpenAI;
  let system: Awaited<ReturnType<Mode['start']>>;
  let token: string;
  let orgId: string;
  let customerKey: string;
  let apiKeyId: string;

  const gql = async <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, auth = token): Promise<{ data?: T; errors?: { message: string }[] }> => {
    const response = await fetch(`${system.controlUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: T; errors?: { message: string }[] };
  };

  /** Runs a mutation that returns the errors plugin's union and gives back `data` of the success. */
  const mutate = async (field: string, inputType: string, selection: string, input: Record<string, unknown>): Promise<any> => {
    const result = await gql(
      `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { ${selection} } } } }`,
      { input },
    );
    expect(result.errors).toBeUndefined();
    const payload = result.data![field];
    expect(payload.__typename, payload.message).toMatch(/Success$/);
    return payload.data;
  };

  const clients = (): OpenAI[] => system.dataUrls.map((url) => new OpenAI({ apiKey: customerKey, baseURL: `${url}/v1`, maxRetries: 0 }));

  const usageRecord = (requestId: string) =>
    eventually(async () => {
      const result = await gql(
        `query($id: String!) { usageRecord(requestId: $id) { requestId apiKeyId model tier inputTokens outputTokens usageSource cost costNanocredits status httpStatus stream latencyMs } }`,
        { id: requestId },
      );
      return result.data?.usageRecord ?? null;
    });

  const balance = async (): Promise<bigint> => {
    const result = await gql(`query($id: ID!) { org(id: $id) { balance } }`, { id: orgId });
    return parseCredits(result.data!.org.balance);
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI({ reply: 'Hello from upstream', usage: USAGE });
    system = await mode.start(fake);
  }, 180_000);

  afterAll(async () => {
    await system?.cleanup();
    await fake?.close();
  }, 60_000);

  it('step 2: the CLI creates the first admin and prints a management token once', async () => {
    // Exactly as the README says: the project's own `tollgate` bin through npx, no download.
    const { stdout } = await runCommand('npx', ['--no-install', 'tollgate', 'admin', 'create', '--email', 'ops@example.com'], system.cliEnv);
    token = /tgm_[0-9A-Za-z]+/.exec(stdout)![0];
    const viewer = await gql(`{ viewer { email } }`);
    expect(viewer.data?.viewer?.email).toBe('ops@example.com');
    const anonymous = await gql(`{ orgs { id } }`, {}, '');
    expect(anonymous.data?.orgs ?? null).toBeNull();
    expect(anonymous.errors?.length).toBeGreaterThan(0);
    // Only the first operator is bootstrapped.
    await expect(runCommand('npx', ['--no-install', 'tollgate', 'admin', 'create', '--email', 'second@example.com'], system.cliEnv)).rejects.toThrow(/already exists/);
    // Startup said where its data is, what it migrated, and (once) how to create the first operator.
    const log = system.processes[0]!.output.join('\n');
    expect(log).toMatch(/database migrations: \d+ applied now/);
    expect(log).toContain('no platform operator yet');
  });

  it('step 3: an operator sets up org, channel, model with price, credit and a customer key over GraphQL', async () => {
    orgId = (await mutate('createOrg', 'CreateOrgInput', 'id name', { name: 'Acme' })).id;
    const channel = await mutate('createChannel', 'CreateChannelInput', 'id credentialLast4 tier', {
      // The fake listens on 127.0.0.1: a private address, which a channel reaches only when allowed.
      name: 'upstream-main', provider: 'openai', baseUrl: fake.url, credential: UPSTREAM_KEY, tier: 'resale', allowPrivateNetwork: true,
    });
    expect(channel.credentialLast4).toBe(UPSTREAM_KEY.slice(-4));
    await mutate('createModel', 'CreateModelInput', 'id name', {
      name: 'gpt-4o-mini',
      prices: [{ tier: 'resale', price: SELL }],
      targets: [{ channelId: channel.id, upstreamModel: 'gpt-4o-mini-2024-07-18', cost: { input: '0.1', output: '0.5' } }],
    });
    const credit = { orgId, amount: '10', reason: 'welcome credit', idempotencyKey: 'acme-welcome' };
    await mutate('creditOrg', 'CreditOrgInput', 'id amount', credit);
    await mutate('creditOrg', 'CreditOrgInput', 'id amount', credit); // a retry changes nothing
    expect(await balance()).toBe(10_000_000_000n);
    const created = await mutate('createApiKey', 'CreateApiKeyInput', 'secret apiKey { id prefix last4 }', { orgId, name: 'production' });
    customerKey = created.secret;
    apiKeyId = created.apiKey.id;
    expect(customerKey.startsWith(created.apiKey.prefix)).toBe(true);
    expect(customerKey.endsWith(created.apiKey.last4)).toBe(true);
    const listed = JSON.stringify(await gql(`{ orgs { edges { node { apiKeys { edges { node { id prefix last4 } } } } } } channels { edges { node { id credentialLast4 } } } }`));
    expect(listed).not.toContain(customerKey);
    expect(listed).not.toContain(UPSTREAM_KEY);
  });

  it('step 4: the openai SDK lists models and gets plain and streamed completions on every data plane', async () => {
    const requestIds: string[] = [];
    for (const client of clients()) {
      const models = await eventually(async () => {
        const page = await client.models.list();
        return page.data.some((m) => m.id === 'gpt-4o-mini') ? page.data : null;
      });
      // Each model once, with the tiers it is served on; a tier-prefixed id still resolves.
      expect(models.filter((m) => m.id.endsWith('gpt-4o-mini')).map((m) => m.id)).toEqual(['gpt-4o-mini']);
      expect((await client.models.retrieve('resale/gpt-4o-mini')).id).toBe('resale/gpt-4o-mini');

      const { data: completion, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] })
        .withResponse();
      expect(completion.choices[0]?.message.content).toBe('Hello from upstream');
      expect(completion.usage?.prompt_tokens).toBe(USAGE.promptTokens);
      expect(response.headers.get('x-tollgate-tier')).toBe('resale');
      // The provider, never the operator's internal channel name.
      expect(response.headers.get('x-tollgate-provider')).toBe('openai');
      expect(response.headers.get('x-tollgate-cost')).toBe(formatCredits(EXPECTED_COST));
      requestIds.push(response.headers.get('x-request-id')!);

      const { data: stream, response: streamResponse } = await client.chat.completions
        .create({ model: 'resale/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
        .withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Hello from upstream');
      requestIds.push(streamResponse.headers.get('x-request-id')!);
    }
    const upstreamCalls = fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(upstreamCalls).toHaveLength(requestIds.length);
    for (const call of upstreamCalls) {
      expect(call.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect(call.body.model).toBe('gpt-4o-mini-2024-07-18');
    }

    // step 5: every request is metered to the nanocredit
    for (const requestId of requestIds) {
      const record = await usageRecord(requestId);
      expect(record).toMatchObject({
        requestId, apiKeyId, model: 'gpt-4o-mini', tier: 'resale', inputTokens: USAGE.promptTokens,
        outputTokens: USAGE.completionTokens, usageSource: 'reported', costNanocredits: EXPECTED_COST.toString(),
        status: 'ok', httpStatus: 200,
      });
      expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(await balance()).toBe(10_000_000_000n - EXPECTED_COST * BigInt(requestIds.length));
  });

  it('rejects bad keys, unknown models and revoked keys without calling upstream', async () => {
    const before = fake.requests.length;
    const [url] = system.dataUrls;
    const post = (key: string, body: unknown) =>
      fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const hello = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

    const forged = `${customerKey.slice(0, -1)}${customerKey.endsWith('A') ? 'B' : 'A'}`;
    const badKey = await post(forged, hello);
    expect(badKey.status).toBe(401);
    const badKeyBody = await badKey.text();
    expect(JSON.parse(badKeyBody).error.code).toBe('invalid_api_key');
    expect(badKeyBody).not.toContain(forged);

    expect((await post(customerKey, { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(404);
    expect((await post(customerKey, { messages: [] })).status).toBe(400);

    await mutate('revokeApiKey', 'RevokeApiKeyInput', 'id status', { id: apiKeyId });
    await eventually(async () => ((await post(customerKey, hello)).status === 401 ? true : null));
    expect(fake.requests.length).toBe(before);
  });

  it('the CLI exports the configuration and applying it back changes nothing', async () => {
    const env = { ...system.cliEnv, TOLLGATE_URL: system.controlUrl, TOLLGATE_TOKEN: token };
    const exported = await runCommand('npx', ['--no-install', 'tollgate', 'export'], env);
    expect(exported.stdout).toContain('name: upstream-main');
    expect(exported.stdout).not.toContain(UPSTREAM_KEY);
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-apply-'));
    try {
      writeFileSync(join(dir, 'tollgate.yaml'), exported.stdout);
      const applied = await runCommand('npx', ['--no-install', 'tollgate', 'apply', '-f', join(dir, 'tollgate.yaml'), '--dry-run'], env);
      expect(applied.stdout).toBe('no changes\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never writes a secret to any log line', () => {
    const output = system.processes.flatMap((p) => p.output).join('\n');
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [customerKey, token, UPSTREAM_KEY]) expect(output).not.toContain(secret);
  });
});
