import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { RedisStateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { launchOf, repoRoot, startLaunch, type RunningProcess } from '../../test/support/processes.ts';
import { freePort } from '../../test/support/servers.ts';
import { createTestRedis, type TestService } from '../../test/support/services.ts';
import { createCustomer, price, publishTestRoutes, TEST_MODEL } from './testing/fixture.ts';

/**
 * What `npm run start:data-plane` runs: the data plane built into one JavaScript file and started
 * with plain node (no TypeScript compiler at run time). It must serve exactly like the sources.
 */
describe('the built data plane', () => {
  const masterKey = randomBytes(32);
  let redis: TestService;
  let store: RedisStateStore;
  let upstream: FakeUpstream;
  let dataPlane: RunningProcess;
  let base: string;

  beforeAll(async () => {
    execFileSync(process.execPath, ['data-plane/build.mjs'], { cwd: repoRoot });
    redis = await createTestRedis();
    store = new RedisStateStore(redis.url);
    upstream = await startUpstream({ default: answer({ reply: 'built', usage: { promptTokens: 3, completionTokens: 2 } }) });
    await publishTestRoutes(store, masterKey, upstream.url, 'sk-built-channel', price(1_000_000_000n, 2_000_000_000n));
    await store.setEpoch('built');
    const port = await freePort();
    const env = { REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: masterKey.toString('base64'), DATA_PLANE_PORT: String(port) };
    dataPlane = startLaunch(launchOf('start:data-plane'), env);
    await dataPlane.waitForOutput((l) => l.includes('data plane listening'), 30_000);
    base = `http://127.0.0.1:${port}`;
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.stop();
    await store?.close();
    await upstream?.close();
    await redis?.cleanup();
  });

  it('runs on plain node and serves, meters and settles a completion', async () => {
    expect(dataPlane.child.spawnargs.slice(1)).toEqual(['--max-semi-space-size=32', 'data-plane/dist/main.mjs']);
    const customer = await createCustomer(store, 10_000_000_000n);
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customer.key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
    expect([response.status, body.choices[0]!.message.content, body.usage.prompt_tokens]).toEqual([200, 'built', 3]);
    const [delivery] = await store.readUsage('built-test', 10, 1_000);
    expect(JSON.parse(delivery!.payload)).toMatchObject({ requestId: response.headers.get('x-request-id'), orgId: customer.orgId, cost: '7000', status: 'ok' });
  });
});
