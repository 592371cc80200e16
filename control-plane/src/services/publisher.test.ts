import {
  byokCredentialAad,
  channelCredentialAad,
  decodeByokRecord,
  decodeCredential,
  decodeKeyRecord,
  decodeRouteTable,
  encodeByokRecord,
  encodeKeyRecord,
  encodeRouteTable,
  hashSecret,
  MemoryStateStore,
  openSecret,
  type RouteTable,
} from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeAdapters } from '../../../test/support/stores.ts';
import { createApiKey, createChannel, createModel, createOrg, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { byokRecord, keyRecord, Publisher } from './publisher.ts';

const UPSTREAM_KEY = 'sk-publisher-test-key-9876';
const OPENAI_KEY_A = 'sk-org-a-openai-key-1111';
const OPENAI_KEY_B = 'sk-org-b-openai-key-2222';

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(storeAdapters)('publisher over the %s store', (_name, make) => {
  let h: Harness;
  let cleanupStore: () => Promise<void>;
  beforeAll(async () => {
    const made = await make();
    cleanupStore = made.cleanup;
    h = await createHarness({ store: made.store });
  });
  afterAll(async () => {
    await h?.cleanup();
    await cleanupStore?.();
  });

  /** The stored table, read with shared's decoder; a part it could not read fails the test. */
  async function routeTable(): Promise<RouteTable> {
    const skipped: string[] = [];
    const table = await h.store.getRouteTable((what) => skipped.push(what));
    expect(skipped).toEqual([]);
    return table!;
  }

  it('publishes a key record v2: status, the key\'s tiers within the org\'s, and the org\'s plan', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const hash = hashSecret(key.secret);
    expect(await h.store.getKeyRecord(hash)).toEqual({
      v: 2, id: key.id, orgId, defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: null, planId: null,
    });

    await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'id', { orgId, tiers: ['byok', 'cheap'] });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ allowedTiers: ['cheap', 'byok'] });
    await mutate(h, 'setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', 'id', { id: key.id, tiers: ['resale', 'byok'] });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ allowedTiers: ['byok'] });
    await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'id', { orgId, tiers: null });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ allowedTiers: ['resale', 'byok'] });

    const model = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '2' } }] });
    const plan = await mutate(h, 'createPlan', 'CreatePlanInput', 'id', {
      name: unique('plan'), window: 'month', premiumAllowanceTokens: 1000, continuationAllowed: false, fallbackAllowed: false,
      premiumLane: { model: model.name, tier: 'resale' },
    });
    await mutate(h, 'setOrgPlan', 'SetOrgPlanInput', 'id', { orgId, planId: plan.data.id });
    await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'id', { id: key.id });
    const record = (await h.store.getKeyRecord(hash))!;
    expect(record).toMatchObject({ status: 'disabled', planId: plan.data.id });
    expect(decodeKeyRecord(encodeKeyRecord(record))).toEqual(record);
  });

  it('publishes enabled channels with their settings and a sealed typed credential', async () => {
    const channelId = await createChannel(h, {
      provider: 'openai', baseUrl: null, credential: UPSTREAM_KEY, tier: 'cheap', retries: 2, maxConcurrency: 7,
      timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 3000, totalMs: 4000 },
      modelMap: [{ upstreamModel: 'gpt-4o', channelModel: 'gpt-4o-2024-08-06' }],
      extraHeaders: [{ name: 'HTTP-Referer', value: 'https://example.com' }],
    });
    const published = (await routeTable()).channels[channelId]!;
    expect(published).toMatchObject({
      id: channelId, provider: 'openai', protocol: 'openai', baseUrl: 'https://api.openai.com/v1', tier: 'cheap', enabled: true, retries: 2,
      maxConcurrency: 7, timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 3000, totalMs: 4000 },
      modelMap: { 'gpt-4o': 'gpt-4o-2024-08-06' }, extraHeaders: { 'http-referer': 'https://example.com' },
    });
    expect(published.credentialSealed).toMatch(/^e1\./);
    expect(published.credentialSealed).not.toContain(UPSTREAM_KEY);
    expect(decodeCredential(openSecret(h.masterKey, published.credentialSealed, channelCredentialAad(channelId)))).toEqual({ kind: 'api_key', apiKey: UPSTREAM_KEY });

    await mutate(h, 'disableChannel', 'ChannelIdInput', 'id', { id: channelId });
    expect((await routeTable()).channels[channelId]).toBeUndefined();
  });

  it('publishes each model\'s prices in effect per tier, targets on enabled channels with cost, BYOK targets and the fee', async () => {
    const on = await createChannel(h);
    const off = await createChannel(h, { enabled: false });
    const alias = unique('alias');
    const model = await createModel(h, {
      maxOutputTokens: 8192,
      contextWindow: 128_000,
      capabilities: ['tools', 'vision'],
      aliases: [alias],
      prices: [
        { tier: 'resale', price: { input: '1', output: '2', cachedInput: '0.5' } },
        { tier: 'cheap', price: { input: '0.5', output: '1' } },
      ],
      targets: [
        { channelId: on, upstreamModel: 'up-1', priority: 1, weight: 3, cost: { input: '0.25', output: '0.75', reasoning: '1.5' } },
        { channelId: off, upstreamModel: 'up-2', cost: { input: '0.1', output: '0.2' } },
      ],
      byokTargets: [{ provider: 'groq', upstreamModel: 'llama-x', listPrice: { input: '0.05', output: '0.08' } }],
    });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: model.id, tier: 'cheap', price: { input: '9', output: '9' }, effectiveFrom: future });
    await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: model.id, tier: 'cheap', price: { input: '0.4', output: '0.9' } });
    const unpriced = await createModel(h);

    const table = await routeTable();
    expect(table.models[model.name]).toEqual({
      name: model.name,
      prices: {
        resale: { input: '1000000000', output: '2000000000', cachedInput: '500000000' },
        cheap: { input: '400000000', output: '900000000' },
      },
      maxOutputTokens: 8192,
      targets: [{ channelId: on, upstreamModel: 'up-1', priority: 1, weight: 3, cost: { input: '250000000', output: '750000000', reasoning: '1500000000' } }],
      byok: [{ provider: 'groq', upstreamModel: 'llama-x', listPrice: { input: '50000000', output: '80000000' } }],
      createdAt: expect.any(Number),
      contextWindow: 128_000,
      capabilities: ['vision', 'tools'],
      aliases: [alias],
    });
    expect(table.models[unpriced.name]).toBeUndefined();
    expect(table.byokFeeBps).toBe(500);
    expect(decodeRouteTable(encodeRouteTable(table))).toEqual(table);

    await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: 250 });
    expect((await routeTable()).byokFeeBps).toBe(250);
    await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: 500 });
  });

  it('republishes the routes when a scheduled price takes effect', async () => {
    const model = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '1' } }] });
    const effectiveFrom = new Date(Date.now() + 1500).toISOString();
    const scheduled = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: model.id, tier: 'resale', price: { input: '3', output: '3' }, effectiveFrom });
    expect(scheduled.typename).toBe('MutationSetModelPriceSuccess');
    expect((await routeTable()).models[model.name]!.prices.resale).toEqual({ input: '1000000000', output: '1000000000' });
    await until(async () => (await routeTable()).models[model.name]!.prices.resale!.input === '3000000000');
  });

  it('publishes plans with their lanes', async () => {
    const premium = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '1' } }] });
    const economy = await createModel(h, { prices: [{ tier: 'cheap', price: { input: '1', output: '1' } }] });
    const plan = await mutate(h, 'createPlan', 'CreatePlanInput', 'id', {
      name: unique('flat'), window: 'week', premiumAllowanceTokens: 3_000_000_000, concurrency: 4, continuationAllowed: true, fallbackAllowed: false,
      premiumLane: { model: premium.name, tier: 'resale' }, continuationLane: { model: economy.name, tier: 'cheap' },
    });
    expect((await routeTable()).plans[plan.data.id]).toEqual({
      id: plan.data.id, name: expect.any(String), window: 'week', premiumAllowanceTokens: 3_000_000_000, concurrency: 4,
      continuationAllowed: true, fallbackAllowed: false,
      lanes: { premium: { model: premium.name, tier: 'resale' }, continuation: { model: economy.name, tier: 'cheap' }, fallback: null },
    });
  });

  it('publishes each org\'s BYOK credential under that org only, and removes a deleted one', async () => {
    const orgA = await createOrg(h);
    const orgB = await createOrg(h);
    const orgC = await createOrg(h);
    const a = await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId: orgA, provider: 'openai', credential: OPENAI_KEY_A });
    const b = await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId: orgB, provider: 'openai', credential: OPENAI_KEY_B });

    const recordA = (await h.store.getByokRecord(orgA, 'openai'))!;
    const recordB = (await h.store.getByokRecord(orgB, 'openai'))!;
    expect(recordA).toEqual({ v: 1, id: a.data.id, orgId: orgA, provider: 'openai', credentialSealed: expect.stringMatching(/^e1\./) });
    expect(recordB).toEqual({ v: 1, id: b.data.id, orgId: orgB, provider: 'openai', credentialSealed: expect.stringMatching(/^e1\./) });
    expect(decodeByokRecord(encodeByokRecord(recordA))).toEqual(recordA);
    expect(decodeCredential(openSecret(h.masterKey, recordB.credentialSealed, byokCredentialAad(orgB, b.data.id)))).toEqual({ kind: 'api_key', apiKey: OPENAI_KEY_B });
    // Org A's sealed credential cannot be opened as org B's, even under B's own credential id.
    expect(() => openSecret(h.masterKey, recordA.credentialSealed, byokCredentialAad(orgB, b.data.id))).toThrow();
    expect(await h.store.getByokRecord(orgC, 'openai')).toBeNull();
    expect(await h.store.getByokRecord(orgB, 'groq')).toBeNull();

    await mutate(h, 'deleteByokCredential', 'ByokCredentialKeyInput', 'id', { orgId: orgA, provider: 'openai' });
    expect(await h.store.getByokRecord(orgA, 'openai')).toBeNull();
    expect(await h.store.getByokRecord(orgB, 'openai')).toEqual(recordB);
  });

  it('seeds every snapshot and balance into a fresh store at startup', async () => {
    const orgId = await createOrg(h);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '7.000000003', reason: 'seed', idempotencyKey: unique('seed') });
    const key = await createApiKey(h, orgId);
    const credential = await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId, provider: 'groq', credential: 'gsk_startup_key_0001' });
    const model = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '1' } }] });
    const fresh = new MemoryStateStore();
    const publisher = new Publisher(h.database.db, fresh);
    try {
      await publisher.publishAll();
      expect(await fresh.getBalance(orgId)).toMatchObject({ balance: 7_000_000_003n });
      expect(await fresh.getKeyRecord(hashSecret(key.secret))).toMatchObject({ v: 2, id: key.id, status: 'active' });
      expect(await fresh.getByokRecord(orgId, 'groq')).toMatchObject({ id: credential.data.id, orgId });
      expect(Object.keys((await fresh.getRouteTable())!.models)).toContain(model.name);
    } finally {
      publisher.close();
      await fresh.close();
    }
  });

  it('builds records that shared decodes to the same values', async () => {
    const orgId = await createOrg(h);
    await createApiKey(h, orgId);
    await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId, provider: 'openai', credential: OPENAI_KEY_A });
    const key = (await h.database.db.query.apiKeys.findFirst({ where: { orgId }, with: { org: true } }))!;
    const record = keyRecord(key, key.org);
    expect(decodeKeyRecord(encodeKeyRecord(record))).toEqual(record);
    const credential = (await h.database.db.query.byokCredentials.findFirst({ where: { orgId } }))!;
    expect(decodeByokRecord(encodeByokRecord(byokRecord(credential)))).toEqual(byokRecord(credential));
    const table = await h.controlPlane.publisher.buildRouteTable();
    const skipped: string[] = [];
    expect(decodeRouteTable(encodeRouteTable(table), (what) => skipped.push(what))).toEqual(table);
    expect(skipped).toEqual([]);
  });
});
