import { createStateStore, MemoryStateStore, silentLogger, type StateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai-upstream.ts';
import { createTestRedis, type TestService } from '../../test/support/services.ts';
import { startEmbeddedDataPlane } from './embedded.ts';
import { createApiKey, createChannel, createModel, createOrg, generousRateLimits } from './testing/fixtures.ts';
import { createHarness, mutate, type Harness } from './testing/harness.ts';
import { awayFromMinuteEdge } from '../../test/support/clock.ts';

/**
 * Issue 6: a limit set through GraphQL reaches a running data plane within 1 s, and the data plane
 * enforces it. Like propagation.test.ts, over the in-process store and over Redis with the data
 * plane on its own connection; each clock starts when the mutation has returned.
 */
const WITHIN_MS = 1000;
const CREDIT = 1_000_000_000n;

describe.each(['memory', 'redis'] as const)('limits over the %s store', (kind) => {
  let h: Harness;
  let redis: TestService | null = null;
  let dataStore: StateStore;
  let dataPlane: { port: number; close(): Promise<void> };
  let fake: FakeOpenAI;
  let model: string;

  beforeAll(async () => {
    redis = kind === 'redis' ? await createTestRedis() : null;
    const controlStore = redis ? createStateStore(redis.url) : new MemoryStateStore();
    dataStore = redis ? createStateStore(redis.url) : controlStore;
    h = await createHarness({ database: 'pglite', store: controlStore, rateLimits: generousRateLimits() });
    await h.controlPlane.start();
    dataPlane = await startEmbeddedDataPlane({ store: dataStore, masterKey: h.masterKey, host: '127.0.0.1', port: 0, logger: silentLogger });
    // Every request costs 2 tokens at 0.001 credits each: 0.002 credits.
    fake = await startFakeOpenAI({ reply: 'ok', usage: { promptTokens: 1, completionTokens: 1 } });
    const channelId = await createChannel(h, { baseUrl: fake.url });
    model = (await createModel(h, { prices: [{ tier: 'resale', price: { input: '1000', output: '1000' } }], targets: [{ channelId, upstreamModel: 'up', cost: { input: '1', output: '1' } }] })).name;
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.close();
    if (dataStore !== h?.store) await dataStore?.close();
    await h?.cleanup();
    await fake?.close();
    await redis?.cleanup();
  });

  async function chat(secret: string, name = model): Promise<{ status: number; code: string | null }> {
    const response = await fetch(`http://127.0.0.1:${dataPlane.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: name, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { error?: { code?: string } };
    return { status: response.status, code: body.error?.code ?? null };
  }

  /** Sends requests until one answers `status` (at most 5 s); how long that took from `started`. */
  async function until(secret: string, status: number, started = Date.now()): Promise<{ after: number; last: { status: number; code: string | null } }> {
    for (;;) {
      const last = await chat(secret);
      if (last.status === status || Date.now() - started > 5 * WITHIN_MS) return { after: Date.now() - started, last };
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function fundedKey(credits = '10'): Promise<{ orgId: string; id: string; secret: string }> {
    const orgId = await createOrg(h);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: credits, reason: 'test', idempotencyKey: `fund-${orgId}` });
    const key = await createApiKey(h, orgId);
    expect((await until(key.secret, 200)).last).toEqual({ status: 200, code: null });
    return { orgId, ...key };
  }

  it('a key\'s requests-per-minute limit of 1 refuses the second request with rate_limited, within a second', async () => {
    const key = await fundedKey();
    await awayFromMinuteEdge();
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, limits: { requestsPerMinute: 1 } });
    const refused = await until(key.secret, 429);
    expect(refused.last).toEqual({ status: 429, code: 'rate_limited' });
    expect(refused.after).toBeLessThan(WITHIN_MS);
    // Lifted: the next request goes through.
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, limits: { requestsPerMinute: null } });
    expect((await until(key.secret, 200)).after).toBeLessThan(WITHIN_MS);
  });

  it('a model allowlist refuses other models with model_not_allowed, within a second', async () => {
    const key = await fundedKey();
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, limits: { models: ['some-other-model', 'cheap/*'] } });
    const refused = await until(key.secret, 403);
    expect(refused.last).toEqual({ status: 403, code: 'model_not_allowed' });
    expect(refused.after).toBeLessThan(WITHIN_MS);
    await mutate(h, 'updateApiKey', 'UpdateApiKeyInput', 'id', { id: key.id, limits: { models: [`resale/${model}`] } });
    expect((await until(key.secret, 200)).after).toBeLessThan(WITHIN_MS);
  });

  it('an org\'s overdraft lets its balance run below zero, down to the overdraft and never past it', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    // With nothing to spend, the key is known and refused for its balance.
    expect((await until(key.secret, 402)).last).toEqual({ status: 402, code: 'insufficient_balance' });
    await mutate(h, 'updateOrg', 'UpdateOrgInput', 'id', { id: orgId, overdraft: '0.05' });
    const admitted = await until(key.secret, 200);
    expect(admitted.after).toBeLessThan(WITHIN_MS);
    let requests = 1;
    for (; requests < 100 && (await chat(key.secret)).status === 200; requests++);
    expect(await chat(key.secret)).toEqual({ status: 402, code: 'insufficient_balance' });
    // Each admitted request cost 0.002 credits; admission stops where the next hold would pass -0.05.
    const cost = 2_000_000n;
    const overdraft = CREDIT / 20n;
    expect(await dataStore.getBalance(orgId)).toEqual({ balance: -BigInt(requests) * cost, held: 0n });
    let record;
    for (const started = Date.now(); !record && Date.now() - started < 5000; await new Promise((r) => setTimeout(r, 20))) {
      record = await h.database.db.query.usageRecords.findFirst({ where: { apiKeyId: key.id } });
    }
    const hold = record!.hold;
    expect(hold).toBeGreaterThan(cost);
    expect(BigInt(requests)).toBe((overdraft - hold) / cost + 1n);
  });
});
