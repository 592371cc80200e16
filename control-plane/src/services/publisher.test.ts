import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, MemoryStateStore, open, sealedKeyAssociatedData } from '@tollgate/shared';
import { storeAdapters } from '../../../test/support/stores.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { Publisher } from './publisher.ts';

const UPSTREAM_KEY = 'sk-publisher-test-key-9876';

describe.each(storeAdapters)('publisher over the %s store', (_name, make) => {
  let h: Harness;
  let cleanupStore: () => Promise<void>;
  let orgId: string;
  beforeAll(async () => {
    const made = await make();
    cleanupStore = made.cleanup;
    h = await createHarness({ store: made.store });
    orgId = (await mutate(h, 'createOrg', 'CreateOrgInput', 'id', { name: 'Pub', defaultTier: 'cheap' })).data.id;
  });
  afterAll(async () => {
    await h?.cleanup();
    await cleanupStore?.();
  });

  it('publishes a key record on create and republishes it revoked', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret apiKey { id }', { orgId, name: 'k', expiresAt });
    const hash = hashSecret(created.data.secret);
    expect(await h.store.getKeyRecord(hash)).toEqual({
      v: 1, id: created.data.apiKey.id, orgId, defaultTier: 'cheap', status: 'active', expiresAt: Date.parse(expiresAt),
    });
    await mutate(h, 'revokeApiKey', 'RevokeApiKeyInput', 'id', { id: created.data.apiKey.id });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ id: created.data.apiKey.id, status: 'revoked' });
  });

  it('publishes the route table with sealed keys and sell prices, versions increasing', async () => {
    const channel = await mutate(h, 'createProviderChannel', 'CreateProviderChannelInput', 'id', {
      name: 'pub-channel', baseUrl: 'http://127.0.0.1:9/v1', apiKey: UPSTREAM_KEY, tier: 'resale',
    });
    const afterChannel = (await h.store.getRouteTable())!;
    await mutate(h, 'createModel', 'CreateModelInput', 'id', {
      name: 'pub-model', channelId: channel.data.id, upstreamModel: 'upstream-x',
      price: { inputCostPerMillion: '1', outputCostPerMillion: '2', inputPricePerMillion: '0.123456789', outputPricePerMillion: '3' },
    });
    const table = (await h.store.getRouteTable())!;
    expect(table.version).toBeGreaterThan(afterChannel.version);
    const published = table.channels[channel.data.id]!;
    expect(published).toMatchObject({ id: channel.data.id, name: 'pub-channel', protocol: 'openai', baseUrl: 'http://127.0.0.1:9/v1', tier: 'resale' });
    expect(published.apiKeySealed).not.toContain(UPSTREAM_KEY);
    expect(open(h.masterKey, published.apiKeySealed, sealedKeyAssociatedData(channel.data.id))).toBe(UPSTREAM_KEY);
    expect(table.models['pub-model']).toMatchObject({
      name: 'pub-model',
      price: { inputPerMillion: '123456789', outputPerMillion: '3000000000' },
      targets: [{ channelId: channel.data.id, upstreamModel: 'upstream-x', priority: 0, weight: 1 }],
    });
  });

  it('seeds every snapshot and balance into a fresh store at startup', async () => {
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '7.000000003', reason: 'seed', idempotencyKey: 'pub-seed' });
    const key = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret apiKey { id }', { orgId, name: 'k2' });
    const fresh = new MemoryStateStore();
    try {
      await new Publisher(h.database.db, fresh).publishAll();
      expect(await fresh.getBalance(orgId)).toMatchObject({ balance: 7_000_000_003n });
      expect(await fresh.getKeyRecord(hashSecret(key.data.secret))).toMatchObject({ id: key.data.apiKey.id, status: 'active' });
      const table = (await fresh.getRouteTable())!;
      expect(Object.keys(table.models)).toContain('pub-model');
      expect(table.version).toBeGreaterThan((await h.store.getRouteTable())!.version - 1);
    } finally {
      await fresh.close();
    }
  });
});
