import { MemoryStateStore, silentLogger } from '@tollgate/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { startEmbeddedDataPlane } from './embedded.ts';
import { createApiKey, createChannel, createModel, createOrg, generousRateLimits, unique } from './testing/fixtures.ts';
import { createHarness, mutate, type Harness } from './testing/harness.ts';

// Credits per million tokens that do not divide evenly, so the per-bucket rounding shows.
const COST = { input: '0.333333333', output: '1.666666667' };
const MARKUP_FIELDS = 'tier orgId markupBps effectiveFrom';

/**
 * Sell prices as cost × markup, from GraphQL to the bill: set per model and tier and per org,
 * effective-dated, published in the route table, billed to the nanocredit by a running data plane
 * (1,000 input and 500 output tokens: cost × 1.2 is 1,400,001 nanocredits after each rate is
 * rounded up, × 1.5 is 1,750,001), history priced as it was, and apply/export.
 */
describe('markups', () => {
  let h: Harness;
  // The embedded launcher hands back the data plane itself, which tells the table version it serves.
  let dataPlane: { port: number; close(): Promise<void>; routesVersion?(): number };
  let upstream: FakeUpstream;
  let channelId: string;

  beforeAll(async () => {
    h = await createHarness({ database: 'pglite', store: new MemoryStateStore(), rateLimits: generousRateLimits() });
    await h.controlPlane.start();
    dataPlane = await startEmbeddedDataPlane({ store: h.store, masterKey: h.masterKey, host: '127.0.0.1', port: 0, logger: silentLogger });
    upstream = await startUpstream({ default: answer({ reply: 'ok', usage: { promptTokens: 1_000, completionTokens: 500 } }) });
    channelId = await createChannel(h, { baseUrl: upstream.url });
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.close();
    await h?.cleanup();
    await upstream?.close();
  });

  const setMarkup = (input: Record<string, unknown>) => mutate(h, 'setModelMarkup', 'SetModelMarkupInput', MARKUP_FIELDS, input);
  const markedModel = (prices: unknown[] = [{ tier: 'resale', price: { input: '5', output: '5' } }]) =>
    createModel(h, { prices, targets: [{ channelId, upstreamModel: 'up', cost: COST }] });

  async function customer() {
    const orgId = await createOrg(h);
    expect((await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '10', reason: 'start', idempotencyKey: unique('start') })).typename).toBe('MutationCreditOrgSuccess');
    const key = await createApiKey(h, orgId);
    return { orgId, client: new OpenAI({ apiKey: key.secret, baseURL: `http://127.0.0.1:${dataPlane.port}/v1`, maxRetries: 0 }) };
  }

  /** One request; what its usage record says it cost. */
  async function bill(client: OpenAI, model: string): Promise<bigint> {
    const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    await h.controlPlane.consumer.whenConsumed(requestId);
    return (await h.database.db.query.usageRecords.findFirst({ where: { requestId } }))!.cost;
  }

  /** Waits until the data plane serves the table the control plane last published. */
  async function published(): Promise<void> {
    await h.controlPlane.outbox.deliver();
    const version = (await h.store.getRouteTable())!.version;
    for (let i = 0; i < 250 && dataPlane.routesVersion?.() !== version; i++) await new Promise((r) => setTimeout(r, 20));
  }

  it('bills cost × markup over the explicit price, and an org with its own markup at it', async () => {
    const model = await markedModel();
    const plain = await customer();
    const special = await customer();
    expect((await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 12_000 })).data).toMatchObject({ tier: 'resale', orgId: null, markupBps: 12_000 });
    expect((await setMarkup({ modelId: model.id, tier: 'resale', orgId: special.orgId, markupBps: 15_000 })).data).toMatchObject({ orgId: special.orgId, markupBps: 15_000 });
    await published();

    const routed = (await h.store.getRouteTable())!.models[model.name]!;
    expect([routed.prices, routed.markups, routed.orgMarkups]).toEqual([{}, { resale: 12_000 }, { [special.orgId]: { resale: 15_000 } }]);
    expect(await bill(plain.client, model.name)).toBe(1_400_001n);
    expect(await bill(special.client, model.name)).toBe(1_750_001n);

    const shown = await h.gql(`query($id: ID!) { model(id: $id) { markups { ${MARKUP_FIELDS} } markupHistory { markupBps } } }`, { id: model.id });
    expect(shown.data!.model.markups.map((m: { orgId: string | null; markupBps: number }) => [m.orgId, m.markupBps])).toEqual(
      expect.arrayContaining([[null, 12_000], [special.orgId, 15_000]]),
    );
    expect(shown.data!.model.markups).toHaveLength(2);
  });

  it('takes a scheduled markup from its instant on; requests before it stay priced as they were', async () => {
    const model = await markedModel();
    const { client } = await customer();
    await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 12_000 });
    await published();
    const effectiveFrom = new Date(Date.now() + 1_500);
    const scheduled = await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 15_000, effectiveFrom: effectiveFrom.toISOString() });
    expect(scheduled.data).toMatchObject({ markupBps: 15_000, effectiveFrom: effectiveFrom.toISOString() });
    expect(await bill(client, model.name)).toBe(1_400_001n);
    // The control plane republishes at the instant; the data plane then bills the new markup.
    let after = 0n;
    for (const started = Date.now(); Date.now() - started < 10_000; ) {
      await new Promise((r) => setTimeout(r, 100));
      if ((await h.store.getRouteTable())!.models[model.name]!.markups?.resale !== 15_000) continue;
      await published();
      after = await bill(client, model.name);
      break;
    }
    expect(after).toBe(1_750_001n);
    const records = await h.database.db.query.usageRecords.findMany({ where: { model: model.name }, orderBy: { startedAt: 'asc' } });
    expect(records.map((r) => r.cost)).toEqual([1_400_001n, 1_750_001n]);
    const history = await h.gql(`query($id: ID!) { model(id: $id) { markupHistory { markupBps } } }`, { id: model.id });
    expect(history.data!.model.markupHistory).toEqual([{ markupBps: 15_000 }, { markupBps: 12_000 }]);
  }, 20_000);

  it('ends a markup with null: an org falls back to the model\'s, the model to its explicit price', async () => {
    const model = await markedModel();
    const special = await customer();
    await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 12_000 });
    await setMarkup({ modelId: model.id, tier: 'resale', orgId: special.orgId, markupBps: 15_000 });
    await setMarkup({ modelId: model.id, tier: 'resale', orgId: special.orgId, markupBps: null });
    await published();
    expect(await bill(special.client, model.name)).toBe(1_400_001n);
    await setMarkup({ modelId: model.id, tier: 'resale', markupBps: null });
    await published();
    // The explicit 5 credits per million on 1,500 tokens.
    expect(await bill(special.client, model.name)).toBe(7_500_000n);
    expect((await h.gql(`query($id: ID!) { model(id: $id) { markups { markupBps } } }`, { id: model.id })).data!.model.markups).toEqual([]);
  });

  it('asks to confirm a markup below cost, and refuses bad input with typed errors', async () => {
    const model = await markedModel();
    const below = await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 9_000 });
    expect([below.typename, below.message]).toEqual([
      'ConfirmationRequiredError',
      `confirm to proceed: a markup of 9000 bps sells ${model.name} on resale at 90% of its cost: every request would lose money`,
    ]);
    expect((await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 9_000, confirm: true })).data).toMatchObject({ markupBps: 9_000 });
    const at = new Date(Date.now() + 60_000).toISOString();
    const cases = [
      await setMarkup({ modelId: model.id, tier: 'resale' }),
      await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 1_000_001 }),
      await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 12_000, effectiveFrom: new Date(Date.now() - 60_000).toISOString() }),
      await setMarkup({ modelId: model.id, tier: 'resale', orgId: '00000000-0000-4000-8000-0000000000ff', markupBps: 12_000 }),
      await setMarkup({ modelId: '00000000-0000-4000-8000-0000000000ff', tier: 'resale', markupBps: 12_000 }),
      await setMarkup({ modelId: model.id, tier: 'cheap', markupBps: 12_000, effectiveFrom: at }),
      await setMarkup({ modelId: model.id, tier: 'cheap', markupBps: 13_000, effectiveFrom: at }),
    ];
    expect(cases.map((c) => [c.typename, c.message])).toEqual([
      ['ValidationError', 'markupBps is required: basis points of the cost, or null to end the markup'],
      ['ValidationError', 'markupBps must be an integer from 0 to 1000000'],
      ['ValidationError', 'effectiveFrom must not be in the past; omit it for now'],
      ['NotFoundError', 'no org with this id'],
      ['NotFoundError', 'no model with this id'],
      ['MutationSetModelMarkupSuccess', undefined],
      ['ConflictError', `${model.name} already has a cheap markup from this instant`],
    ]);
  });

  it('sells a tier that has no explicit price once it has a markup', async () => {
    const model = await markedModel([]);
    const { client } = await customer();
    await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 10_000 });
    await published();
    // At cost: 1,000 × 0.333333333 + 500 × 1.666666667 credits per million, rounded up once.
    expect(await bill(client, model.name)).toBe(1_166_667n);
  });

  it('goes with its org or model when either is deleted', async () => {
    const model = await markedModel();
    const orgId = await createOrg(h);
    await setMarkup({ modelId: model.id, tier: 'resale', orgId, markupBps: 11_000 });
    await published();
    expect((await h.store.getRouteTable())!.models[model.name]!.orgMarkups).toEqual({ [orgId]: { resale: 11_000 } });
    expect((await mutate(h, 'deleteOrg', 'OrgIdInput', 'id', { id: orgId })).typename).toBe('MutationDeleteOrgSuccess');
    expect('orgMarkups' in (await h.store.getRouteTable())!.models[model.name]!).toBe(false);
    await setMarkup({ modelId: model.id, tier: 'resale', markupBps: 12_000 });
    expect((await mutate(h, 'deleteModel', 'ModelIdInput', 'id', { id: model.id })).typename).toBe('MutationDeleteModelSuccess');
    expect(await h.database.db.query.modelMarkups.findMany({ where: { modelId: model.id } })).toEqual([]);
  });

  it('applies and exports markups, per org by slug; applying twice changes nothing', async () => {
    const name = unique('marked');
    const slug = unique('acme');
    const channel = (await h.database.db.query.providerChannels.findFirst({ where: { id: channelId } }))!.name;
    const doc = (bps: number, orgBps: number | null) => `
version: 1
models:
  - name: ${name}
    targets:
      - channel: ${channel}
        upstreamModel: up
        cost: { input: "0.1", output: "0.2" }
    markups: { resale: ${bps} }
    orgMarkups:
      ${slug}: { resale: ${orgBps} }
orgs:
  - slug: ${slug}
    name: Acme
`;
    const apply = (text: string) => mutate(h, 'applyConfig', 'ApplyConfigInput', 'changes { action kind name fields }', { document: text });
    expect((await apply(doc(12_000, 11_000))).data.changes).toEqual([
      { action: 'create', kind: 'model', name, fields: [] },
      { action: 'create', kind: 'org', name: slug, fields: [] },
      { action: 'create', kind: 'markup', name: `${name}/resale`, fields: [] },
      { action: 'create', kind: 'markup', name: `${name}/resale for ${slug}`, fields: [] },
    ]);
    expect((await apply(doc(12_000, 11_000))).data.changes).toEqual([]);
    expect((await apply(doc(13_000, 11_000))).data.changes).toEqual([{ action: 'update', kind: 'markup', name: `${name}/resale`, fields: ['markupBps'] }]);
    const exported = (await h.gql(`{ exportConfig }`)).data!.exportConfig as string;
    expect(exported).toContain(`    markups:\n      resale: 13000\n    orgMarkups:\n      ${slug}:\n        resale: 11000\n`);
    expect((await apply(exported)).data.changes).toEqual([]);
    expect((await apply(doc(13_000, null))).data.changes).toEqual([{ action: 'update', kind: 'markup', name: `${name}/resale for ${slug}`, fields: ['markupBps'] }]);
    expect((await h.gql(`{ exportConfig }`)).data!.exportConfig).not.toContain(`${slug}:\n        resale`);
  });
});
