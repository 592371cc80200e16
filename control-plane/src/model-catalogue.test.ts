import { MemoryStateStore, silentLogger } from '@tollgate/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { startEmbeddedDataPlane } from './embedded.ts';
import { createApiKey, createChannel, createModel, createOrg, generousRateLimits, unique } from './testing/fixtures.ts';
import { createHarness, mutate, type Harness } from './testing/harness.ts';

const FIELDS = 'id name contextWindow capabilities aliases';

/**
 * A model's context window, capabilities and aliases from GraphQL to the data plane: stored and
 * checked (an alias is free across every name and alias, or a typed ConflictError), published,
 * listed by GET /v1/models, and a request for an alias billed and recorded under the model's name.
 */
describe('context window, capabilities and aliases', () => {
  let h: Harness;
  let dataPlane: { port: number; close(): Promise<void> };
  let upstream: FakeUpstream;
  let channelId: string;

  beforeAll(async () => {
    h = await createHarness({ database: 'pglite', store: new MemoryStateStore(), rateLimits: generousRateLimits() });
    await h.controlPlane.start();
    dataPlane = await startEmbeddedDataPlane({ store: h.store, masterKey: h.masterKey, host: '127.0.0.1', port: 0, logger: silentLogger });
    upstream = await startUpstream({ default: answer({ reply: 'hi', usage: { promptTokens: 2_000, completionTokens: 1_000 } }) });
    channelId = await createChannel(h, { baseUrl: upstream.url });
  }, 60_000);
  afterAll(async () => {
    await dataPlane?.close();
    await h?.cleanup();
    await upstream?.close();
  });

  const create = (input: Record<string, unknown>) => mutate(h, 'createModel', 'CreateModelInput', FIELDS, { name: unique('model'), ...input });
  const update = (input: Record<string, unknown>) => mutate(h, 'updateModel', 'UpdateModelInput', FIELDS, input);
  const stored = async (id: string) => (await h.gql(`query($id: ID!) { model(id: $id) { ${FIELDS} } }`, { id })).data!.model;

  it('stores them, capabilities in the catalogue\'s order and each once, and publishes them', async () => {
    const name = unique('vision-model');
    const r = await create({ name, contextWindow: 200_000, capabilities: ['tools', 'vision', 'tools'], aliases: [`${name}-latest`, `${name}-v1`] });
    expect(r.data).toEqual({ id: expect.any(String), name, contextWindow: 200_000, capabilities: ['vision', 'tools'], aliases: [`${name}-latest`, `${name}-v1`] });
    // Not sold yet: not in the table. Priced: in it, with the new fields.
    await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: r.data.id, tier: 'resale', price: { input: '1', output: '1' } });
    expect((await h.store.getRouteTable())!.models[name]).toMatchObject({ contextWindow: 200_000, capabilities: ['vision', 'tools'], aliases: [`${name}-latest`, `${name}-v1`] });
  });

  it('replaces the lists when given, keeps them when left out, and [] empties one', async () => {
    const { id, name } = await createModel(h, { capabilities: ['reasoning'], aliases: [unique('a')] });
    const alias = unique('b');
    expect((await update({ id, aliases: [alias] })).data).toEqual({ id, name, contextWindow: null, capabilities: ['reasoning'], aliases: [alias] });
    expect((await update({ id, capabilities: ['embeddings', 'images'] })).data).toMatchObject({ capabilities: ['embeddings', 'images'], aliases: [alias] });
    expect((await update({ id, aliases: [] })).data).toMatchObject({ aliases: [] });
    // A model may keep its own alias through an update.
    expect((await update({ id, aliases: [alias] })).data).toMatchObject({ aliases: [alias] });
    expect((await update({ id, aliases: [alias] })).typename).toBe('MutationUpdateModelSuccess');
  });

  it('refuses an alias that is another model\'s name or alias, and a name that is an alias, with ConflictError', async () => {
    const first = await createModel(h, { aliases: [] });
    const alias = unique('taken');
    const second = await createModel(h, { aliases: [alias] });
    const cases: [string, Awaited<ReturnType<typeof create>>][] = [
      ['alias = a name (create)', await create({ aliases: [first.name] })],
      ['alias = an alias (create)', await create({ aliases: [alias] })],
      ['name = an alias (create)', await create({ name: alias })],
      ['alias = a name (update)', await update({ id: second.id, aliases: [first.name] })],
      ['alias = an alias (update)', await update({ id: first.id, aliases: [alias] })],
    ];
    expect(cases.map(([what, r]) => [what, r.typename, r.message])).toEqual([
      ['alias = a name (create)', 'ConflictError', `a model named "${first.name}" already exists`],
      ['alias = an alias (create)', 'ConflictError', `"${alias}" is already an alias of model "${second.name}"`],
      ['name = an alias (create)', 'ConflictError', `"${alias}" is already an alias of model "${second.name}"`],
      ['alias = a name (update)', 'ConflictError', `a model named "${first.name}" already exists`],
      ['alias = an alias (update)', 'ConflictError', `"${alias}" is already an alias of model "${second.name}"`],
    ]);
    // Nothing changed.
    expect([(await stored(first.id)).aliases, (await stored(second.id)).aliases]).toEqual([[], [alias]]);
  });

  it.each([
    ['its own name', (name: string) => ({ name, aliases: [name] }), 'aliases: "NAME" is the model\'s own name'],
    ['a tier prefix', (name: string) => ({ name, aliases: [`resale/${name}-x`] }), 'aliases[0] must contain no "/" and no spaces'],
    ['auto', (name: string) => ({ name, aliases: ['auto'] }), 'aliases[0] "auto" is reserved for plan lanes'],
    ['the same alias twice', (name: string) => ({ name, aliases: [`${name}-x`, `${name}-x`] }), 'aliases names an alias twice'],
  ])('refuses an alias that is %s with a ValidationError', async (_what, input, message) => {
    const name = unique('m');
    const r = await create(input(name));
    expect([r.typename, r.message]).toEqual(['ValidationError', message.replace('NAME', name)]);
  });

  it('refuses a capability it does not know before anything runs', async () => {
    const r = await h.gql(`mutation { createModel(input: { name: "x-${unique('c')}", capabilities: [telepathy] }) { __typename } }`);
    expect(r.errors?.[0]?.message).toBe('Value "telepathy" does not exist in "ModelCapability" enum.');
  });

  it('applies and exports them: applying twice changes nothing, a changed list is one update', async () => {
    const name = unique('applied');
    const doc = (aliases: string) => `
version: 1
models:
  - name: ${name}
    contextWindow: 32000
    capabilities: [json_schema, tools]
    aliases: [${aliases}]
`;
    const apply = (text: string) => mutate(h, 'applyConfig', 'ApplyConfigInput', 'changes { action kind name fields }', { document: text });
    expect((await apply(doc(`${name}-a`))).data.changes).toEqual([{ action: 'create', kind: 'model', name, fields: [] }]);
    expect((await apply(doc(`${name}-a`))).data.changes).toEqual([]);
    expect((await apply(doc(`${name}-a, ${name}-b`))).data.changes).toEqual([{ action: 'update', kind: 'model', name, fields: ['aliases'] }]);
    const exported = (await h.gql(`{ exportConfig }`)).data!.exportConfig as string;
    expect(exported).toContain(`  - name: ${name}\n    maxOutputTokens: 4096\n    contextWindow: 32000\n    capabilities:\n      - tools\n      - json_schema\n    aliases:\n      - ${name}-a\n      - ${name}-b\n`);
    expect((await apply(exported)).data.changes).toEqual([]);
    const taken = await apply(doc(`${name}-a, ${name}`));
    expect([taken.typename, taken.message]).toEqual(['ValidationError', `aliases: "${name}" is the model's own name`]);
  });

  it('serves an alias through the data plane, billed and recorded under the model\'s name, and lists it', async () => {
    const name = unique('gpt');
    const alias = `${name}-latest`;
    const model = await createModel(h, {
      name, contextWindow: 64_000, capabilities: ['tools'], aliases: [alias],
      prices: [{ tier: 'resale', price: { input: '3', output: '15' } }],
      targets: [{ channelId, upstreamModel: 'upstream-gpt', cost: { input: '1', output: '5' } }],
    });
    const orgId = await createOrg(h);
    await mutate(h, 'creditOrg', 'CreditOrgInput', 'id', { orgId, amount: '1', reason: 'start', idempotencyKey: unique('start') });
    const key = await createApiKey(h, orgId);
    const listed = async () => {
      const response = await fetch(`http://127.0.0.1:${dataPlane.port}/v1/models/${alias}`, { headers: { authorization: `Bearer ${key.secret}` } });
      return response.status === 200 ? ((await response.json()) as { id: string; context_window: number; tollgate: { capabilities: string[]; aliases: string[] } }) : null;
    };
    let entry = await listed();
    for (const started = Date.now(); entry === null && Date.now() - started < 5_000; entry = await listed()) await new Promise((r) => setTimeout(r, 20));
    expect([entry?.id, entry?.context_window, entry?.tollgate.capabilities, entry?.tollgate.aliases]).toEqual([name, 64_000, ['tools'], [alias]]);

    const client = new OpenAI({ apiKey: key.secret, baseURL: `http://127.0.0.1:${dataPlane.port}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    await h.controlPlane.consumer.whenConsumed(requestId);
    const record = await h.database.db.query.usageRecords.findFirst({ where: { requestId } });
    // 2,000 input at 3 credits/M + 1,000 output at 15 credits/M = 0.006 + 0.015 credits.
    expect([record!.model, record!.cost, record!.providerCost]).toEqual([name, 21_000_000n, 7_000_000n]);
    expect(model.name).toBe(name);
  });
});
