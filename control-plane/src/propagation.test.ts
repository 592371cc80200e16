import { createStateStore, MemoryStateStore, type StateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestService } from '../../test/support/services.ts';
import { startEmbeddedDataPlane } from './embedded.ts';
import { createApiKey, createOrg, generousRateLimits } from './testing/fixtures.ts';
import { createHarness, mutate, type Harness } from './testing/harness.ts';

/**
 * Issue 8: a committed change reaches a running data plane within 1 s. The data plane runs in this
 * process over the in-process store (embedded mode), and over Redis with its own connection (as
 * separate processes would). Each check starts when the mutation has returned.
 */
const WITHIN_MS = 1000;

async function until(check: () => Promise<boolean>, started: number): Promise<number> {
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > 5 * WITHIN_MS) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['memory', 'redis'] as const)('over the %s store', (kind) => {
  let h: Harness;
  let redis: TestService | null = null;
  let dataStore: StateStore;
  let dataPlane: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    redis = kind === 'redis' ? await createTestRedis() : null;
    const controlStore = redis ? createStateStore(redis.url) : new MemoryStateStore();
    dataStore = redis ? createStateStore(redis.url) : controlStore;
    h = await createHarness({ database: 'pglite', store: controlStore, rateLimits: generousRateLimits() });
    await h.controlPlane.start();
    dataPlane = await startEmbeddedDataPlane({ store: dataStore, masterKey: h.masterKey, host: '127.0.0.1', port: 0, logger: (await import('@tollgate/shared')).silentLogger });
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.close();
    if (dataStore !== h?.store) await dataStore?.close();
    await h?.cleanup();
    await redis?.cleanup();
  });

  const models = (key: string) => fetch(`http://127.0.0.1:${dataPlane.port}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

  it('a new key works, and a disabled one stops, within a second of the mutation', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const createdAfter = await until(async () => (await models(key.secret)) === 200, Date.now());
    expect(createdAfter).toBeLessThan(WITHIN_MS);

    expect(await models(key.secret)).toBe(200); // now cached by the data plane
    await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'id', { id: key.id });
    const started = Date.now();
    const disabledAfter = await until(async () => (await models(key.secret)) === 401, started);
    expect(disabledAfter).toBeLessThan(WITHIN_MS);
  });
});
