import { randomBytes, randomUUID } from 'node:crypto';
import { RedisStateStore, shardOf, USAGE_GROUP } from '@tollgate/shared';
import { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../control-plane/src/db/connect.ts';
import { createPlatformAdmin } from '../control-plane/src/services/admins.ts';
import { rowsOf } from '../control-plane/src/services/ledger.ts';
import { reconcile } from '../control-plane/src/services/reconcile.ts';
import { answer, startUpstream, type FakeUpstream } from './fakes/upstream.ts';
import { startNodeProcess, type RunningProcess } from './support/processes.ts';
import { freePort, startBreakableRedis, startPostgres, type BreakablePostgres, type BreakableRedis } from './support/servers.ts';

/**
 * The whole system as processes (Postgres, Redis, a control plane, two data planes) under load
 * while one part fails for real: Redis unreachable for 15 s, Redis restarted empty, Postgres
 * stopped for 10 s, the control plane killed (-9) and restarted, a data plane killed mid-stream.
 * Each case ends with the books checked: every answered request has exactly one usage record,
 * the ledger holds exactly their cost, nothing is held any more, and reconcile finds zero drift
 * between the store, the stream and the ledger.
 */

const LISTENING_CONTROL = /control plane listening on (http:\/\/\S+)\/graphql/;
const LISTENING_DATA = /data plane listening on (http:\/\/[0-9.:]+)/;
const SELL = { input: '1', output: '2' };

interface Outcome {
  status: number;
  code: string | null;
  requestId: string | null;
  retryAfter: string | null;
  ms: number;
  /** A whole answer: for a stream, its text ends with `data: [DONE]`. */
  complete: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('the system under real failures, books reconciled after each', () => {
  let postgres: BreakablePostgres;
  let redis: BreakableRedis;
  let upstream: FakeUpstream;
  let store: RedisStateStore;
  let database: Database;
  let control: RunningProcess;
  let controlUrl: string;
  const dataPlanes: { process: RunningProcess; url: string }[] = [];
  let token: string;
  const masterKey = randomBytes(32).toString('base64');
  const controlPort = { value: 0 };

  const sharedEnv = () => ({ REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey, TOLLGATE_HOST: '127.0.0.1', TOLLGATE_REDIS_TIMEOUT_MS: '1000' });

  async function startControl(): Promise<void> {
    control = startNodeProcess('control-plane/src/main.ts', ['--control-plane-only'], {
      ...sharedEnv(), DATABASE_URL: postgres.url, CONTROL_PLANE_PORT: String(controlPort.value), TOLLGATE_USAGE_CLAIM_IDLE_MS: '2000',
    });
    controlUrl = LISTENING_CONTROL.exec(await control.waitForOutput((l) => LISTENING_CONTROL.test(l), 60_000))![1]!;
  }

  async function startDataPlane(): Promise<void> {
    const process = startNodeProcess('data-plane/src/main.ts', [], {
      ...sharedEnv(), DATA_PLANE_PORT: String(await freePort()), CONTROL_PLANE_PORT: String(controlPort.value), TOLLGATE_INSTANCE_DEAD_AFTER_MS: '3000',
    });
    const url = LISTENING_DATA.exec(await process.waitForOutput((l) => LISTENING_DATA.test(l), 60_000))![1]!;
    dataPlanes.push({ process, url });
  }

  const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<any> => {
    const response = await fetch(`${controlUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  const mutate = async (field: string, inputType: string, selection: string, input: Record<string, unknown>): Promise<any> => {
    const data = await gql(
      `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { ${selection} } } } }`,
      { input },
    );
    expect(data[field].__typename, data[field].message).toMatch(/Success$/);
    return data[field].data;
  };

  /** A fresh org with 1,000 credits and a key: each case keeps its own books. */
  async function customer(): Promise<{ orgId: string; secret: string }> {
    const orgId = (await mutate('createOrg', 'CreateOrgInput', 'id', { name: `faults-${randomUUID()}` })).id as string;
    await mutate('creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1000', reason: 'start', idempotencyKey: `start-${orgId}` });
    const secret = (await mutate('createApiKey', 'CreateApiKeyInput', 'secret', { orgId, name: 'load' })).secret as string;
    // Published to the store (keys and balance) before any load starts.
    await until(async () => (await store.getBalance(orgId)) !== null, 10_000, 'the balance to be published');
    return { orgId, secret };
  }

  async function call(base: string, secret: string, stream: boolean, signal?: AbortSignal): Promise<Outcome> {
    const started = Date.now();
    try {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'faulty', stream, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] }),
        signal: signal ?? AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      const code = response.status === 200 ? null : ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null);
      const complete = response.status === 200 && (!stream || text.trimEnd().endsWith('data: [DONE]'));
      return { status: response.status, code, requestId: response.headers.get('x-request-id'), retryAfter: response.headers.get('retry-after'), ms: Date.now() - started, complete };
    } catch {
      return { status: 0, code: 'connection', requestId: null, retryAfter: null, ms: Date.now() - started, complete: false };
    }
  }

  /** `concurrency` workers, alternating plain and streamed calls over the data planes, until `durationMs`. */
  async function load(secret: string, durationMs: number, concurrency: number, during: () => Promise<void>): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const deadline = Date.now() + durationMs;
    let turn = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const n = turn++;
        outcomes.push(await call(dataPlanes[n % dataPlanes.length]!.url, secret, n % 2 === 1));
      }
    };
    await Promise.all([...Array.from({ length: concurrency }, worker), during()]);
    return outcomes;
  }

  /**
   * Waits until everything settled was consumed and nothing is held, then checks the books of the
   * org: one usage record per answered request, the ledger debits equal to their costs, and no
   * drift between store and ledger for any org.
   */
  async function expectBooksBalanced(orgId: string, answered: string[]): Promise<void> {
    const drained = async (): Promise<boolean> => (await store.unconsumedUsage(10)).length === 0 && (await store.getBalance(orgId))?.held === 0n;
    await until(drained, 60_000, 'the stream to be consumed and holds released').catch(async (error: unknown) => {
      // What was left, for the next reader of a failure: the entries, the holds, the control plane's last words.
      const left = (await store.unconsumedUsage(10)).map((d) => ({ id: d.id, debited: d.storeDebited, event: d.payload.slice(0, 200) }));
      const raw = new Redis(redis.url);
      const stream = `tg:{s${shardOf(orgId)}}:usage`;
      const pel = await raw.xpending(stream, USAGE_GROUP, '-', '+', 20).catch((e: unknown) => String(e));
      const consumers = await raw.xinfo('CONSUMERS', stream, USAGE_GROUP).catch((e: unknown) => String(e));
      const groups = await raw.xinfo('GROUPS', stream).catch((e: unknown) => String(e));
      raw.disconnect();
      throw new Error(`${(error as Error).message}; left in the stream: ${JSON.stringify(left)}; pending: ${JSON.stringify(pel)}; consumers: ${JSON.stringify(consumers)}; groups: ${JSON.stringify(groups)}; held: ${(await store.getBalance(orgId))?.held}; control plane said:\n${control.output.slice(-40).join('\n')}`);
    });
    const records = rowsOf<{ request_id: string; cost: string }>(await database.db.execute(sql`select request_id, cost::text as cost from usage_records where org_id = ${orgId}`));
    const recorded = new Set(records.map((r) => r.request_id));
    expect(answered.filter((id) => !recorded.has(id))).toEqual([]);
    const [ledger] = rowsOf<{ usage: string; records: string }>(
      await database.db.execute(sql`select
        (select coalesce(-sum(amount), 0)::text from ledger_entries where org_id = ${orgId} and kind = 'usage') as usage,
        (select coalesce(sum(cost), 0)::text from usage_records where org_id = ${orgId}) as records`),
    );
    expect(ledger!.usage).toBe(ledger!.records);
    const report = await reconcile(database.db, store);
    expect([report.orgs, report.counters, report.unconsumedEvents, report.deadLetters.count]).toEqual([[], [], 0, 0]);
  }

  /** The requests answered 200; each of them whole (a stream that ended with [DONE]). */
  const answeredIds = (outcomes: Outcome[]): string[] => {
    const answered = outcomes.filter((o) => o.status === 200);
    expect(answered.filter((o) => !o.complete).map((o) => o.requestId)).toEqual([]);
    return answered.map((o) => o.requestId!);
  };

  beforeAll(async () => {
    postgres = await startPostgres();
    redis = await startBreakableRedis();
    upstream = await startUpstream({ default: answer({ reply: 'fine', usage: { promptTokens: 10, completionTokens: 5 } }) });
    store = new RedisStateStore(redis.url, { commandTimeoutMs: 2_000 });
    controlPort.value = await freePort();
    await startControl();
    database = await openDatabase({ databaseUrl: postgres.url, dataDir: '/nonexistent' });
    token = (await createPlatformAdmin(database.db, 'faults@example.com')).token;
    const channel = await mutate('createChannel', 'CreateChannelInput', 'id', {
      name: 'fake', provider: 'openai', baseUrl: upstream.url, credential: 'sk-faults-upstream-key', tier: 'resale', allowPrivateNetwork: true,
    });
    await mutate('createModel', 'CreateModelInput', 'id', {
      name: 'faulty', prices: [{ tier: 'resale', price: SELL }], targets: [{ channelId: channel.id, upstreamModel: 'up', cost: { input: '0.5', output: '1' } }],
    });
    await startDataPlane();
    await startDataPlane();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([control, ...dataPlanes.map((d) => d.process)].filter(Boolean).map((p) => p!.stop()));
    await database?.close();
    await store?.close();
    await upstream?.close();
    await redis?.stop();
    await postgres?.stop();
  }, 60_000);

  it('Redis unreachable for 15 s mid-load: cached keys ride it out on their local allowance, others get fast 503s with Retry-After (never 500 or 401), nothing lost', async () => {
    const warm = await customer();
    const cold = await customer();
    const coldOutcomes: Outcome[] = [];
    const outcomes = await load(warm.secret, 24_000, 6, async () => {
      await sleep(3_000);
      redis.freeze();
      await sleep(2_000);
      // A key no data plane has seen yet: it cannot be checked, so it is refused, quickly and clearly.
      for (let i = 0; i < 5; i++) {
        coldOutcomes.push(await call(dataPlanes[i % dataPlanes.length]!.url, cold.secret, false));
        await sleep(1_000);
      }
      await sleep(8_000);
      redis.thaw();
      await sleep(3_000);
      coldOutcomes.push(await call(dataPlanes[0]!.url, cold.secret, false));
    });
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    expect(coldOutcomes.map((o) => [o.status, o.code, o.retryAfter !== null, o.ms < 5_000])).toEqual([
      ...Array.from({ length: 5 }, () => [503, 'unavailable', true, true]),
      [200, null, false, true],
    ]);
    await expectBooksBalanced(warm.orgId, answeredIds(outcomes));
    await expectBooksBalanced(cold.orgId, answeredIds(coldOutcomes));
  }, 120_000);

  it('Redis restarted empty mid-load: 503 until the control plane republishes by itself, then service; events the wipe took are replayed', async () => {
    const { orgId, secret } = await customer();
    const outcomes = await load(secret, 16_000, 6, async () => {
      await sleep(3_000);
      await redis.restartEmpty();
    });
    expect([...new Set(outcomes.map((o) => o.status))].sort()).toEqual([200, 503]);
    expect(outcomes.filter((o) => o.status === 503).every((o) => o.code === 'unavailable')).toBe(true);
    expect(outcomes.slice(-6).every((o) => o.status === 200)).toBe(true);
    // Each data plane saw the new epoch and appended its recent events again.
    expect(dataPlanes.map((d) => d.process.output.some((l) => l.includes('recent usage events appended again')))).toEqual([true, true]);
    await expectBooksBalanced(orgId, answeredIds(outcomes));
  }, 120_000);

  it('Postgres stopped for 10 s mid-load: the data plane does not notice, and the consumer catches up without loss or double', async () => {
    const { orgId, secret } = await customer();
    const outcomes = await load(secret, 16_000, 6, async () => {
      await sleep(3_000);
      await postgres.halt();
      await sleep(10_000);
      await postgres.resume();
    });
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    await expectBooksBalanced(orgId, answeredIds(outcomes));
  }, 120_000);

  it('the control plane killed (-9) mid-load and restarted at once: the new one takes over what the dead one held', async () => {
    const { orgId, secret } = await customer();
    const outcomes = await load(secret, 12_000, 6, async () => {
      await sleep(3_000);
      control.child.kill('SIGKILL');
      await new Promise((resolve) => control.child.once('exit', resolve));
      await startControl();
    });
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    await expectBooksBalanced(orgId, answeredIds(outcomes));
  }, 120_000);

  it('a data plane killed (-9) mid-stream: every request that reached the upstream gets exactly one record, the orphans settled by the other', async () => {
    const { orgId, secret } = await customer();
    const [doomed] = dataPlanes;
    for (let i = 0; i < 4; i++) upstream.enqueue(answer({ reply: 'a long story', chunks: 400, chunkDelayMs: 25, usage: { promptTokens: 10, completionTokens: 5 } }));
    const received = upstream.requests.length;
    const streams = Array.from({ length: 4 }, () => call(doomed!.url, secret, true));
    await upstream.waitFor(() => upstream.requests.length >= received + 4, 10_000, 'four streams upstream');
    doomed!.process.child.kill('SIGKILL');
    const cut = await Promise.all(streams);
    // The client saw a broken stream (or a cut body), never a clean end.
    expect(cut.map((o) => [o.status === 0 || o.status === 200, o.complete])).toEqual(Array.from({ length: 4 }, () => [true, false]));
    dataPlanes.shift();
    await startDataPlane();
    await expectBooksBalanced(orgId, []);
    const records = rowsOf<{ status: string }>(await database.db.execute(sql`select status from usage_records where org_id = ${orgId}`));
    expect(records.map((r) => r.status)).toEqual(['orphaned', 'orphaned', 'orphaned', 'orphaned']);
  }, 120_000);
});
