import { randomBytes } from 'node:crypto';
import { Agent, get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStateStore, type UsageEvent } from '@tollgate/shared';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai-upstream.ts';
import { createDataPlane } from './server.ts';
import { createCustomer, price, publishTestRoutes, TEST_MODEL } from './testing/fixture.ts';

/** close(): requests in flight finish (or are cut after the grace period) and all are settled. */
describe('data plane shutdown', () => {
  const masterKey = randomBytes(32);
  let fake: FakeOpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ reply: 'a fairly long answer, streamed slowly', chunks: 10, chunkDelayMs: 30 });
  });
  afterAll(() => fake?.close());

  async function startStream(graceMs: number) {
    const store = new MemoryStateStore();
    await publishTestRoutes(store, masterKey, fake.url, 'sk-test-channel', price(1_000_000_000n, 2_000_000_000n));
    const { key, orgId } = await createCustomer(store, 10_000_000_000n);
    const dataPlane = await createDataPlane({ store, masterKey, drainGraceMs: graceMs });
    const response = await fetch(`http://127.0.0.1:${dataPlane.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, stream: true, messages: [{ role: 'user', content: 'tell me' }] }),
    });
    const events = async (): Promise<UsageEvent[]> => (await store.readUsage('t', 10, 0)).map((d) => JSON.parse(d.payload) as UsageEvent);
    return { store, orgId, dataPlane, response, events };
  }

  it('lets a stream in flight finish, then settles it, before close resolves', async () => {
    const { dataPlane, response, events, store, orgId } = await startStream(10_000);
    const started = Date.now();
    await dataPlane.close();
    // The stream takes ~300 ms; close waited for it, and its settlement was already in the store.
    expect(Date.now() - started).toBeGreaterThan(200);
    const [event] = await events();
    expect((await response.text()).endsWith('data: [DONE]\n\n')).toBe(true);
    expect(event).toMatchObject({ status: 'ok', usageSource: 'reported' });
    expect((await store.getBalance(orgId))?.balance).toBe(10_000_000_000n - BigInt(event!.cost));
  });

  it('answers 503 on kept-alive connections while draining, health check included', async () => {
    const { dataPlane, response } = await startStream(10_000);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        get({ host: '127.0.0.1', port: dataPlane.port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    expect(await status('/healthz')).toBe(200);
    const closing = dataPlane.close();
    // The listen socket is closed; this request arrives on the idle kept-alive connection.
    expect(await status('/healthz')).toBe(503);
    expect(await status('/v1/models')).toBe(503);
    await response.text();
    await closing;
    agent.destroy();
  });

  it('cuts a stream that outlives the grace period and settles it as aborted', async () => {
    const { dataPlane, response, events, store, orgId } = await startStream(50);
    const reading = response.text().catch(() => 'cut');
    await dataPlane.close();
    const [event] = await events();
    expect(event).toMatchObject({ status: 'client_aborted', usageSource: 'estimated' });
    expect(BigInt(event!.cost) > 0n).toBe(true);
    expect(await store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n - BigInt(event!.cost), held: 0n });
    await reading;
  });
});
