import { MemoryStateStore, silentLogger } from '@tollgate/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawBytes, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { startEmbeddedDataPlane } from './embedded.ts';
import { createApiKey, createChannel, createOrg, generousRateLimits, unique } from './testing/fixtures.ts';
import { createHarness, mutate, type Harness } from './testing/harness.ts';

const FREE_TOKENS = { input: '0', output: '0' };
const SELL = [
  { size: '1024x1024', quality: 'standard', price: '0.04' },
  { size: '1024x1024', quality: 'hd', price: '0.08' },
];
const COST = [
  { size: '1024x1024', quality: 'standard', price: '0.02' },
  { size: '1024x1024', quality: 'hd', price: '0.05' },
];
const PRICE_FIELDS = 'input output imagePrices { size quality price }';

/**
 * Per-image prices from GraphQL to the bill: set on a model's sell price, target cost and BYOK list
 * price, published in the route table, shown by GET /v1/models, held and billed by a running data
 * plane, and recorded with the image count on the usage record.
 */
describe.each(['pglite', 'postgres'] as const)('image prices over %s', (database) => {
  let h: Harness;
  let dataPlane: { port: number; close(): Promise<void> };
  let upstream: FakeUpstream;
  let model: { id: string; name: string };
  let channelId: string;

  beforeAll(async () => {
    h = await createHarness({ database, store: new MemoryStateStore(), rateLimits: generousRateLimits() });
    await h.controlPlane.start();
    dataPlane = await startEmbeddedDataPlane({ store: h.store, masterKey: h.masterKey, host: '127.0.0.1', port: 0, logger: silentLogger });
    upstream = await startUpstream();
    channelId = await createChannel(h, { baseUrl: upstream.url });
    const created = await mutate(h, 'createModel', 'CreateModelInput', `id name prices { tier price { ${PRICE_FIELDS} } } targets { cost { ${PRICE_FIELDS} } } byokTargets { listPrice { ${PRICE_FIELDS} } }`, {
      name: unique('dall-e'),
      prices: [{ tier: 'resale', price: { ...FREE_TOKENS, imagePrices: SELL } }],
      targets: [{ channelId, upstreamModel: 'dall-e-3', cost: { ...FREE_TOKENS, imagePrices: COST } }],
      byokTargets: [{ provider: 'openai', upstreamModel: 'dall-e-3', listPrice: { ...FREE_TOKENS, imagePrices: SELL } }],
    });
    expect(created.typename).toBe('MutationCreateModelSuccess');
    expect([created.data.prices, created.data.targets, created.data.byokTargets]).toEqual([
      [{ tier: 'resale', price: { ...FREE_TOKENS, imagePrices: SELL } }],
      [{ cost: { ...FREE_TOKENS, imagePrices: COST } }],
      [{ listPrice: { ...FREE_TOKENS, imagePrices: SELL } }],
    ]);
    model = { id: created.data.id, name: created.data.name };
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.close();
    await h?.cleanup();
    await upstream?.close();
  });

  const listed = async (secret: string) => {
    const response = await fetch(`http://127.0.0.1:${dataPlane.port}/v1/models/${model.name}`, { headers: { authorization: `Bearer ${secret}` } });
    return response.status === 200 ? ((await response.json()) as { tollgate: { pricing: { resale?: { images?: unknown } } } }).tollgate.pricing.resale?.images : null;
  };
  const until = async <T>(read: () => Promise<T>, wanted: T): Promise<T> => {
    let last = await read();
    for (const started = Date.now(); JSON.stringify(last) !== JSON.stringify(wanted) && Date.now() - started < 5_000; last = await read()) await new Promise((r) => setTimeout(r, 20));
    return last;
  };

  it('publishes them in the route table in nanocredits, beside the token rates', async () => {
    const routed = (await h.store.getRouteTable())!.models[model.name]!;
    expect([routed.prices.resale, routed.targets[0]!.cost, routed.byok[0]!.listPrice]).toEqual([
      { input: '0', output: '0', images: [{ size: '1024x1024', quality: 'standard', price: '40000000' }, { size: '1024x1024', quality: 'hd', price: '80000000' }] },
      { input: '0', output: '0', images: [{ size: '1024x1024', quality: 'standard', price: '20000000' }, { size: '1024x1024', quality: 'hd', price: '50000000' }] },
      { input: '0', output: '0', images: [{ size: '1024x1024', quality: 'standard', price: '40000000' }, { size: '1024x1024', quality: 'hd', price: '80000000' }] },
    ]);
  });

  it('shows them in GET /v1/models, bills n images at them and records the count', async () => {
    const orgId = await createOrg(h);
    expect((await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'start', idempotencyKey: unique('start') })).typename).toBe('MutationCreditOrgSuccess');
    const key = await createApiKey(h, orgId);
    expect(await until(() => listed(key.secret), SELL)).toEqual(SELL);

    upstream.enqueue(rawBytes([JSON.stringify({ created: 1_760_000_000, data: [{ url: 'https://files.example/1.png' }, { url: 'https://files.example/2.png' }] })], { headers: { 'content-type': 'application/json' } }));
    const client = new OpenAI({ apiKey: key.secret, baseURL: `http://127.0.0.1:${dataPlane.port}/v1`, maxRetries: 0 });
    const { data, response } = await client.images.generate({ model: model.name, prompt: 'Two lighthouses', n: 2, size: '1024x1024', quality: 'hd' }).withResponse();
    expect(data.data).toHaveLength(2);
    const requestId = response.headers.get('x-request-id')!;
    await h.controlPlane.consumer.whenConsumed(requestId);
    const record = await h.database.db.query.usageRecords.findFirst({ where: { requestId } });
    expect([record!.endpoint, record!.images, record!.cost, record!.providerCost, record!.hold, record!.inputTokens, record!.outputTokens]).toEqual(['images', 2, 160_000_000n, 100_000_000n, 160_000_000n, 0, 0]);
    const usage = await h.gql(`query($id: ID!) { org(id: $id) { usageRecords(first: 5) { edges { node { endpoint images cost } } } } }`, { id: orgId });
    expect(usage.data?.org?.usageRecords?.edges ?? usage.errors).toEqual([{ node: { endpoint: 'images', images: 2, cost: '0.16' } }]);
  });

  it('takes a new price from now on, and the data plane serves it', async () => {
    const repriced = [{ size: '1024x1024', quality: 'standard', price: '0.03' }, { size: '1792x1024', quality: 'hd', price: '0.12' }];
    const r = await mutate(h, 'setModelPrice', 'SetModelPriceInput', `tier price { ${PRICE_FIELDS} }`, { modelId: model.id, tier: 'resale', price: { ...FREE_TOKENS, imagePrices: repriced } });
    expect(r.data).toEqual({ tier: 'resale', price: { ...FREE_TOKENS, imagePrices: repriced } });
    const key = await createApiKey(h, await createOrg(h));
    expect(await until(() => listed(key.secret), repriced)).toEqual(repriced);
  });

  it.each([
    ['a size that is not WIDTHxHEIGHT', [{ size: '1024', quality: 'hd', price: '1' }], 'price.imagePrices[0].size must be WIDTHxHEIGHT (e.g. 1024x1024) or auto'],
    ['an unknown quality', [{ size: '1024x1024', quality: 'ultra', price: '1' }], 'price.imagePrices[0].quality must be one of standard, hd, low, medium, high, xhigh, max, auto'],
    ['a negative price', [{ size: '1024x1024', quality: 'hd', price: '-1' }], 'price.imagePrices[0].price must not be negative'],
    ['one size and quality twice', [{ size: '1024x1024', quality: 'hd', price: '1' }, { size: '1024x1024', quality: 'hd', price: '2' }], 'price.imagePrices prices 1024x1024 hd twice'],
  ])('refuses %s with a ValidationError', async (_name, imagePrices, message) => {
    const r = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: model.id, tier: 'resale', price: { ...FREE_TOKENS, imagePrices } });
    expect([r.typename, r.message]).toEqual(['ValidationError', message]);
  });

  it('asks to confirm an image price below what the target costs', async () => {
    const below = [{ size: '1024x1024', quality: 'hd', price: '0.01' }];
    const r = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: model.id, tier: 'resale', price: { ...FREE_TOKENS, imagePrices: below } });
    expect(r.typename).toBe('ConfirmationRequiredError');
  });

  it('exports them, and the export applies back as no change', async () => {
    const exported = (await h.gql(`{ exportConfig }`)).data!.exportConfig as string;
    expect(exported).toContain('quality: hd');
    const applied = await mutate(h, 'applyConfig', 'ApplyConfigInput', 'changes { action kind name }', { document: exported });
    expect(applied.data.changes).toEqual([]);
  });
});
