import { randomBytes } from 'node:crypto';
import { RedisStateStore, type UsageEvent } from '@tollgate/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { startNodeProcess, type RunningProcess } from '../../test/support/processes.ts';
import { freePort, startBreakableRedis, type BreakableRedis } from '../../test/support/servers.ts';
import { createCustomer, price, publishTestRoutes, TEST_MODEL } from './testing/fixture.ts';

const ENTRY = 'data-plane/src/main.ts';
const PRICE = price(1_000_000_000n, 2_000_000_000n);
const HELLO = JSON.stringify({ model: TEST_MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });

/**
 * Real processes, a real redis-server broken on purpose: the data plane answers 503 quickly (never
 * 500, never 401) while Redis is unreachable or empty, rides out a short outage for cached keys on a
 * bounded local allowance without losing a settlement, and a killed data plane's requests are
 * settled by another one within seconds, exactly once.
 */
describe('data plane under store failures', () => {
  const masterKey = randomBytes(32);
  let redis: BreakableRedis;
  let store: RedisStateStore;
  let upstream: FakeUpstream;
  const processes: RunningProcess[] = [];

  beforeAll(async () => {
    redis = await startBreakableRedis();
    store = new RedisStateStore(redis.url, { commandTimeoutMs: 1_000 });
    upstream = await startUpstream({ default: answer({ usage: { promptTokens: 10, completionTokens: 5 } }) });
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await store?.close();
    await upstream?.close();
    await redis?.stop();
  });

  async function publish(epoch = 'published'): Promise<void> {
    await publishTestRoutes(store, masterKey, upstream.url, 'sk-fault-channel', PRICE);
    await store.setEpoch(epoch);
  }

  async function dataPlane(env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const running = startNodeProcess(ENTRY, [], {
      REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey.toString('base64'), DATA_PLANE_PORT: String(port),
      TOLLGATE_REDIS_TIMEOUT_MS: '500', ...env,
    });
    processes.push(running);
    await running.waitForOutput((l) => l.includes('listening'), 30_000);
    return `http://127.0.0.1:${port}`;
  }

  const post = async (base: string, secret: string, body = HELLO) => {
    const started = Date.now();
    const response = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body });
    const text = await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), code: response.status === 200 ? null : (JSON.parse(text) as { error: { code: string } }).error.code, ms: Date.now() - started };
  };

  const until = async (check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const events = async (): Promise<UsageEvent[]> => {
    const out: UsageEvent[] = [];
    for (let batch = await store.readUsage('fault-test', 500, 0); batch.length > 0; batch = await store.readUsage('fault-test', 500, 0)) {
      await store.ackUsage(batch.map((d) => d.id));
      out.push(...batch.map((d) => JSON.parse(d.payload) as UsageEvent));
    }
    return out;
  };

  it('answers 503 within the timeout while Redis is unreachable, serves cached keys on a bounded allowance, and writes every settlement after', async () => {
    await publish();
    const cached = await createCustomer(store, 10_000_000_000n);
    const cold = await createCustomer(store, 10_000_000_000n);
    // A local allowance of 0.00025 credits: with holds of 0.000108 credits, two requests fit, not three.
    const base = await dataPlane({ TOLLGATE_OUTAGE_GRACE_MS: '30000', TOLLGATE_OUTAGE_ALLOWANCE: '0.00025' });
    expect((await post(base, cached.key.secret)).status).toBe(200);
    await events();
    redis.freeze();
    try {
      // A key never seen by this process cannot be checked: 503, quickly, never 401.
      const unknown = await post(base, cold.key.secret);
      expect([unknown.status, unknown.code, unknown.retryAfter]).toEqual([503, 'unavailable', '2']);
      expect(unknown.ms).toBeLessThan(3_000);
      // A cached key rides out the outage on its allowance, then gets 503 too.
      const during = [await post(base, cached.key.secret), await post(base, cached.key.secret), await post(base, cached.key.secret)];
      expect(during.map((r) => r.status)).toEqual([200, 200, 503]);
    } finally {
      redis.thaw();
    }
    // The two settlements buffered during the outage reach the store: both debited, once each.
    let written: UsageEvent[] = [];
    for (let i = 0; i < 100 && written.length < 3; i++) {
      written = written.concat((await events()).filter((e) => e.orgId === cached.orgId));
      if (written.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    // Two served on the allowance; the refused one is settled at no cost, so that its reservation
    // (sent before the timeout, run by Redis once it woke up) cannot leave a hold behind.
    expect(written.map((e) => [e.status, e.httpStatus, e.cost === '0']).sort()).toEqual([['ok', 200, false], ['ok', 200, false], ['upstream_error', 503, true]]);
    const spent = written.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    expect(await store.getBalance(cached.orgId)).toEqual({ balance: 10_000_000_000n - costOf1() - spent, held: 0n });
    expect((await post(base, cold.key.secret)).status).toBe(200);
  }, 60_000);

  it('answers 503, never 401 or 402, while Redis is empty, until the state is republished; then appends again the events the wipe lost', async () => {
    await publish();
    const customer = await createCustomer(store, 10_000_000_000n);
    const base = await dataPlane();
    await events();
    const before = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${customer.key.secret}`, 'content-type': 'application/json' }, body: HELLO });
    expect(before.status).toBe(200);
    const lostId = before.headers.get('x-request-id')!;
    // Settled into the stream, not consumed yet: the wipe takes it.
    await until(async () => (await store.unconsumedUsage(100)).length === 1);
    await redis.restartEmpty();
    // The data plane reconnects and drops its caches; nothing is published yet.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post(base, customer.key.secret));
    expect(answers.map((a) => [a.status, a.code])).toEqual(Array.from({ length: 5 }, () => [503, 'unavailable']));
    // The control plane republishes (routes, the key, the balance, then a new epoch).
    await publish('republished');
    await store.putKeyRecord(customer.key.hash, { v: 2, id: customer.keyId, orgId: customer.orgId, defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: null, planId: null });
    await store.seedBalance(customer.orgId, 10_000_000_000n);
    // Served again once the new epoch is seen (each call until then is a 503, checked above).
    await until(async () => (await post(base, customer.key.secret)).status === 200);
    // The data plane saw the epoch change and appended its recent events again, as not debited here.
    await until(async () => (await store.unconsumedUsage(100)).some((d) => JSON.parse(d.payload).requestId === lostId));
    const replayed = (await store.unconsumedUsage(100)).filter((d) => JSON.parse(d.payload).requestId === lostId);
    expect(replayed.map((d) => d.storeDebited)).toEqual([false]);
  }, 60_000);

  it("settles a killed data plane's in-flight request exactly once, from another data plane, within seconds", async () => {
    await publish();
    const customer = await createCustomer(store, 10_000_000_000n);
    const env = { TOLLGATE_INSTANCE_DEAD_AFTER_MS: '3000' };
    const doomedBase = await dataPlane(env);
    await dataPlane(env);
    await events();
    upstream.enqueue(answer({ reply: 'a long answer', chunks: 200, chunkDelayMs: 50 }));
    const streaming = fetch(`${doomedBase}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${customer.key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'tell me' }] }),
    }).then((r) => r.text()).catch(() => 'cut');
    await upstream.waitFor(() => upstream.stats().inFlight > 0);
    expect((await store.getBalance(customer.orgId))!.held > 0n).toBe(true);
    const doomed = processes[0]!;
    doomed.child.kill('SIGKILL');
    await streaming;
    let orphaned: UsageEvent[] = [];
    await until(async () => (orphaned = (await events()).filter((e) => e.orgId === customer.orgId)).length > 0, 15_000);
    expect(orphaned.map((e) => [e.status, e.usageSource, e.usage.output])).toEqual([['orphaned', 'estimated', 0]]);
    expect(BigInt(orphaned[0]!.cost) > 0n).toBe(true);
    expect(await store.getBalance(customer.orgId)).toEqual({ balance: 10_000_000_000n - BigInt(orphaned[0]!.cost), held: 0n });
    // Nothing more comes for it: settled exactly once.
    await new Promise((r) => setTimeout(r, 3_500));
    expect((await events()).filter((e) => e.orgId === customer.orgId)).toEqual([]);
  }, 60_000);
});

/** The cost of the one request before the outage (10 input, 5 output tokens at PRICE). */
function costOf1(): bigint {
  return (10n * PRICE.input + 5n * PRICE.output + 999_999n) / 1_000_000n;
}
