import { randomBytes } from 'node:crypto';
import { MemoryStateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { readConfig } from './config.ts';
import { createDataPlane, type DataPlane } from './server.ts';
import { createCustomer, price, publishTestRoutes, TEST_MODEL } from './testing/fixture.ts';

/**
 * During a master-key rotation the control plane re-wraps every credential under the new key while
 * data planes run: a data plane given the ring (new key first, then the previous) opens credentials
 * sealed under either, so no request fails in between.
 */
describe('the master key ring on the data plane', () => {
  const previous = randomBytes(32);
  const current = randomBytes(32);
  let upstream: FakeUpstream;
  let dataPlane: DataPlane | null = null;

  beforeAll(async () => {
    upstream = await startUpstream({ default: answer({ reply: 'still here', usage: { promptTokens: 2, completionTokens: 1 } }) });
  });
  afterAll(async () => {
    await dataPlane?.close();
    await upstream?.close();
  });

  const call = async (secret: string) => {
    const response = await fetch(`http://127.0.0.1:${dataPlane!.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return [response.status, response.status === 200 ? ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content : await response.text()];
  };

  it('serves channels sealed under the previous key and under the current one', async () => {
    const store = new MemoryStateStore();
    dataPlane = await createDataPlane({ store, masterKey: [current, previous], port: 0 });
    const { key } = await createCustomer(store, 10_000_000_000n);
    /** Calls until the upstream sees `channelKey` (the table carrying it is loaded), at most 2 s. */
    const served = async (channelKey: string) => {
      for (let i = 0; i < 40; i++) {
        const answer = await call(key.secret);
        if (upstream.requests.at(-1)?.headers.authorization === `Bearer ${channelKey}`) return answer;
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    };
    // Not re-wrapped yet: sealed under the previous key.
    await publishTestRoutes(store, previous, upstream.url, 'sk-before-rotation', price(1_000_000n, 1_000_000n));
    expect(await served('sk-before-rotation')).toEqual([200, 'still here']);
    // Re-wrapped under the current key and republished.
    await publishTestRoutes(store, current, upstream.url, 'sk-after-rotation', price(1_000_000n, 1_000_000n));
    expect(await served('sk-after-rotation')).toEqual([200, 'still here']);
  });

  it('reads the ring from TOLLGATE_MASTER_KEY and TOLLGATE_MASTER_KEY_PREVIOUS, current first', () => {
    const config = readConfig({ REDIS_URL: 'redis://127.0.0.1:1', TOLLGATE_MASTER_KEY: current.toString('base64'), TOLLGATE_MASTER_KEY_PREVIOUS: previous.toString('base64') });
    expect(config.masterKey).toEqual([current, previous]);
  });
});
