import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStateStore, type UsageEvent } from '@tollgate/shared';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai-upstream.ts';
import { answer, fail, startUpstream } from '../../test/fakes/upstream.ts';
import { startNodeProcess, type RunningProcess } from '../../test/support/processes.ts';
import { freePort } from '../../test/support/servers.ts';
import { createTestRedis, type TestService } from '../../test/support/services.ts';
import { channelRecord, createCustomer, modelRoute, price, publishTestRoutes, routeTable, TEST_MODEL } from './testing/fixture.ts';
import { until } from './testing/harness.ts';
import { awayFromMinuteEdge } from '../../test/support/clock.ts';

const ENTRY = 'data-plane/src/main.ts';
const CHANNEL_KEY = `sk-live-main-${randomBytes(8).toString('hex')}`;

/** `npm run start:data-plane` as an operator runs it: its own process, configured by environment. */
describe('data plane process (main.ts)', () => {
  let redis: TestService;
  let store: RedisStateStore;
  let fake: FakeOpenAI;
  const masterKey = randomBytes(32);
  const processes: RunningProcess[] = [];

  beforeAll(async () => {
    redis = await createTestRedis();
    store = new RedisStateStore(redis.url);
    fake = await startFakeOpenAI({ reply: 'from the fake' });
    await publishTestRoutes(store, masterKey, fake.url, CHANNEL_KEY, price(1_000n, 2_000n));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await fake?.close();
    await store?.close();
    await redis?.cleanup();
  });

  function start(env: Record<string, string>): RunningProcess {
    // An empty value hides the variable from a developer's own shell environment.
    const running = startNodeProcess(ENTRY, [], { REDIS_URL: '', TOLLGATE_MASTER_KEY: '', TOLLGATE_DATA_DIR: `/tmp/tollgate-none-${randomBytes(4).toString('hex')}`, ...env });
    processes.push(running);
    return running;
  }

  const exitCode = (p: RunningProcess) =>
    new Promise<number | null>((resolve) => (p.child.exitCode !== null ? resolve(p.child.exitCode) : p.child.once('exit', (code) => resolve(code))));

  it('refuses to start without REDIS_URL, saying so in one line', async () => {
    const running = start({ TOLLGATE_MASTER_KEY: masterKey.toString('base64') });
    expect(await exitCode(running)).toBe(1);
    const lines = running.output.filter((line) => line.trim().length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('REDIS_URL is required');
  });

  it('refuses to start without a master key, naming where it looked', async () => {
    const running = start({ REDIS_URL: redis.url });
    expect(await exitCode(running)).toBe(1);
    expect(running.output.join('\n')).toContain('TOLLGATE_MASTER_KEY');
  });

  it('serves from Redis in several processes, applies a revocation in each, and drains on SIGTERM', async () => {
    const { key, orgId } = await createCustomer(store, 10_000_000_000n);
    const instances = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const running = start({ REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey.toString('base64'), DATA_PLANE_PORT: String(port) });
      const line = await running.waitForOutput((l) => l.includes('listening'));
      expect(JSON.parse(line)).toMatchObject({ level: 'info', msg: `data plane listening on http://127.0.0.1:${port}` });
      instances.push({ running, base: `http://127.0.0.1:${port}` });
    }
    const post = (base: string) =>
      fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      });
    for (const { base } of instances) {
      const response = await post(base);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('from the fake');
    }
    // Both settlements reach the shared balance and the shared usage stream.
    await until(async () => (await store.getBalance(orgId))?.held === 0n);
    const events = (await store.readUsage('main-test', 100, 0)).map((d) => JSON.parse(d.payload) as UsageEvent).filter((e) => e.orgId === orgId);
    expect(events.map((e) => [e.status, e.usageSource])).toEqual([['ok', 'reported'], ['ok', 'reported']]);
    const spent = events.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    expect(spent > 0n).toBe(true);
    expect((await store.getBalance(orgId))!.balance).toBe(10_000_000_000n - spent);

    // One announcement through Redis pub/sub reaches every process's key cache.
    await store.putKeyRecord(key.hash, { v: 2, id: 'k', orgId, defaultTier: 'resale', status: 'revoked', expiresAt: null, allowedTiers: null, planId: null });
    for (const { base } of instances) await until(async () => (await post(base)).status === 401, 5_000);

    for (const { running } of instances) {
      const exited = exitCode(running);
      running.child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(running.output.some((l) => l.includes('data plane stopped'))).toBe(true);
      const text = running.output.join('\n');
      expect(text).not.toContain(key.secret);
      expect(text).not.toContain(CHANNEL_KEY);
    }
  });
  it('shares circuit breakers between processes: one opens it, the other skips the channel, one probe closes it', async () => {
    const flaky = await startUpstream();
    const backup = await startUpstream({ default: answer({ reply: 'backup' }) });
    try {
      await store.putRouteTable(
        routeTable({
          channels: [channelRecord(masterKey, 'flaky', { baseUrl: flaky.url, provider: 'groq' }), channelRecord(masterKey, 'backup', { baseUrl: backup.url, provider: 'together' })],
          models: [modelRoute('shared-breaker', { prices: { resale: price(1_000n, 2_000n) }, targets: [{ channelId: 'flaky', priority: 0 }, { channelId: 'backup', priority: 1 }] })],
        }),
      );
      const { key } = await createCustomer(store, 10_000_000_000n);
      const env = { REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey.toString('base64'), TOLLGATE_BREAKER_THRESHOLD: '2', TOLLGATE_BREAKER_COOLDOWN_MS: '1500' };
      const bases: string[] = [];
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        await start({ ...env, DATA_PLANE_PORT: String(port) }).waitForOutput((l) => l.includes('listening'));
        bases.push(`http://127.0.0.1:${port}`);
      }
      const [a, b] = bases as [string, string];
      const call = async (base: string) => {
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'shared-breaker', messages: [{ role: 'user', content: 'hi' }] }),
        });
        await response.arrayBuffer();
        return [response.status, response.headers.get('x-tollgate-provider')];
      };
      // Process A sees two failures: the breaker opens in Redis and is announced.
      flaky.enqueue(fail(500), fail(500));
      expect(await call(a)).toEqual([200, 'together']);
      expect(await call(a)).toEqual([200, 'together']);
      await until(async () => (await store.getBreaker('flaky')).openUntil > 0);
      // Process B never saw a failure, yet skips the channel while the breaker is open.
      const seen = flaky.requests.length;
      expect(await call(b)).toEqual([200, 'together']);
      expect(await call(a)).toEqual([200, 'together']);
      expect(flaky.requests.length).toBe(seen);
      // After the cool-down, one probe (from whichever process gets it) succeeds and closes it for both.
      await new Promise((r) => setTimeout(r, 1_600));
      expect(await call(b)).toEqual([200, 'groq']);
      // The close is written after the answer went out.
      await until(async () => (await store.getBreaker('flaky')).openUntil === 0);
      expect(await store.getBreaker('flaky')).toEqual({ openUntil: 0, failures: 0 });
      await until(async () => (await call(a))[1] === 'groq', 3_000);
    } finally {
      await flaky.close();
      await backup.close();
    }
  });
  it('enforces a key\'s rate, token and concurrency limits across processes (the counters live in Redis)', async () => {
    await publishTestRoutes(store, masterKey, fake.url, CHANNEL_KEY, price(1_000n, 2_000n));
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      await start({ REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey.toString('base64'), DATA_PLANE_PORT: String(port) }).waitForOutput((l) => l.includes('listening'));
      bases.push(`http://127.0.0.1:${port}`);
    }
    const call = async (base: string, secret: string) => {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: TEST_MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const none = { models: null, ipAllowlist: null, requestsPerMinute: null, tokensPerMinute: null, concurrency: null, credit: { lifetime: null, day: null, week: null, month: null } };
    await awayFromMinuteEdge();
    const rpm = await createCustomer(store, 10_000_000_000n, { limits: { ...none, requestsPerMinute: 3 } });
    expect([await call(bases[0]!, rpm.key.secret), await call(bases[1]!, rpm.key.secret), await call(bases[0]!, rpm.key.secret), await call(bases[1]!, rpm.key.secret)]).toEqual([200, 200, 200, 429]);
    // The fake reports 9 + 3 tokens: a 20-token minute takes one request wherever it lands.
    // Settlement comes after the answer, off its path: the real tokens count once it has landed
    // (its hold released), and until then the request counts by its input estimate.
    const tpm = await createCustomer(store, 10_000_000_000n, { limits: { ...none, tokensPerMinute: 20 } });
    const first = await call(bases[0]!, tpm.key.secret);
    await until(async () => (await store.getBalance(tpm.orgId))!.held === 0n);
    expect([first, await call(bases[1]!, tpm.key.secret)]).toEqual([200, 429]);
    const conc = await createCustomer(store, 10_000_000_000n, { limits: { ...none, concurrency: 1 } });
    fake.setBehavior({ chunkDelayMs: 300 });
    try {
      const slow = fetch(`${bases[0]}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${conc.key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: TEST_MODEL, stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.text());
      await until(async () => (await store.getBalance(conc.orgId))!.held > 0n);
      expect(await call(bases[1]!, conc.key.secret)).toBe(429);
      await slow;
    } finally {
      fake.reset();
    }
  });
});
