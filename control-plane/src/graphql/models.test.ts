import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST, createChannel, createModel, PRICE, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.cleanup();
});

const MODEL_FIELDS = `id name maxOutputTokens contextWindow
  prices { tier price { input output cachedInput cacheWrite reasoning } }
  priceHistory { tier effectiveFrom price { input output } }
  targets { id channelId upstreamModel priority weight cost { input output cachedInput cacheWrite reasoning } }
  byokTargets { provider upstreamModel listPrice { input output cachedInput cacheWrite reasoning } }`;

const MISSING = '00000000-0000-4000-8000-0000000000ff';

async function model(id: string): Promise<Record<string, any>> {
  return (await h.gql(`query($id: ID!) { model(id: $id) { ${MODEL_FIELDS} } }`, { id })).data!.model;
}

async function modelCount(): Promise<number> {
  return (await h.gql(`{ models(first: 100) { edges { node { id } } } }`)).data!.models.edges.length;
}

async function routed(name: string) {
  return (await h.store.getRouteTable())?.models[name];
}

describe('createModel', () => {
  it('creates a model with sell prices per tier, targets with cost and BYOK targets with list price', async () => {
    const channel = await createChannel(h);
    const name = unique('gpt');
    const r = await mutate(h, 'createModel', 'CreateModelInput', MODEL_FIELDS, {
      name, maxOutputTokens: 16_384, contextWindow: 128_000,
      prices: [
        { tier: 'resale', price: { input: '2.5', output: '10', cachedInput: '1.25' } },
        { tier: 'cheap', price: { input: '1', output: '4', reasoning: '8' } },
      ],
      targets: [{ channelId: channel, upstreamModel: 'gpt-4o-2024-08-06', priority: 1, weight: 2, cost: { input: '2', output: '8', cacheWrite: '3' } }],
      byokTargets: [{ provider: 'openai', upstreamModel: 'gpt-4o', listPrice: { input: '2.5', output: '10' } }],
    });
    expect(r.data).toEqual({
      id: expect.any(String), name, maxOutputTokens: 16_384, contextWindow: 128_000,
      prices: expect.arrayContaining([
        { tier: 'resale', price: { input: '2.5', output: '10', cachedInput: '1.25', cacheWrite: null, reasoning: null } },
        { tier: 'cheap', price: { input: '1', output: '4', cachedInput: null, cacheWrite: null, reasoning: '8' } },
      ]),
      priceHistory: expect.arrayContaining([expect.objectContaining({ tier: 'resale' }), expect.objectContaining({ tier: 'cheap' })]),
      targets: [{ id: expect.any(String), channelId: channel, upstreamModel: 'gpt-4o-2024-08-06', priority: 1, weight: 2, cost: { input: '2', output: '8', cachedInput: null, cacheWrite: '3', reasoning: null } }],
      byokTargets: [{ provider: 'openai', upstreamModel: 'gpt-4o', listPrice: { input: '2.5', output: '10', cachedInput: null, cacheWrite: null, reasoning: null } }],
    });
    expect(r.data.prices).toHaveLength(2);
    expect(await routed(name)).toMatchObject({ maxOutputTokens: 16_384, targets: [{ channelId: channel, weight: 2 }], byok: [{ provider: 'openai' }] });
  });

  it('defaults to a 4096-token output cap and no context window', async () => {
    const created = await createModel(h);
    expect(await model(created.id)).toMatchObject({ maxOutputTokens: 4096, contextWindow: null, prices: [], targets: [], byokTargets: [] });
  });

  it('refuses bad input with a typed error and creates nothing', async () => {
    const channel = await createChannel(h);
    const taken = await createModel(h);
    const before = await modelCount();
    const target = { channelId: channel, upstreamModel: 'u', cost: COST };
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'resale/gpt' }, 'ValidationError'],
      [{ name: 'auto' }, 'ValidationError'],
      [{ name: 'two words' }, 'ValidationError'],
      [{ name: taken.name }, 'ConflictError'],
      [{ maxOutputTokens: 0 }, 'ValidationError'],
      [{ contextWindow: -1 }, 'ValidationError'],
      [{ prices: [{ tier: 'resale', price: PRICE }, { tier: 'resale', price: PRICE }] }, 'ValidationError'],
      [{ prices: [{ tier: 'resale', price: { input: '-1', output: '1' } }] }, 'ValidationError'],
      [{ targets: [target, target] }, 'ValidationError'],
      [{ targets: [{ ...target, weight: 0 }] }, 'ValidationError'],
      [{ targets: [{ ...target, channelId: MISSING }] }, 'NotFoundError'],
      [{ byokTargets: [{ provider: 'custom', upstreamModel: 'u', listPrice: PRICE }] }, 'ValidationError'],
      [{ byokTargets: [{ provider: 'groq', upstreamModel: 'u', listPrice: PRICE }, { provider: 'groq', upstreamModel: 'v', listPrice: PRICE }] }, 'ValidationError'],
    ];
    for (const [input, typename] of cases) {
      const r = await mutate(h, 'createModel', 'CreateModelInput', 'id', { name: unique('m'), ...input });
      expect({ input, typename: r.typename }).toEqual({ input, typename });
    }
    expect(await modelCount()).toBe(before);
  });
});

describe('updateModel', () => {
  it('changes the output cap and sets or clears the context window', async () => {
    const created = await createModel(h, { prices: [{ tier: 'resale', price: PRICE }] });
    const set = await mutate(h, 'updateModel', 'UpdateModelInput', 'maxOutputTokens contextWindow', { id: created.id, maxOutputTokens: 100, contextWindow: 8000 });
    expect(set.data).toEqual({ maxOutputTokens: 100, contextWindow: 8000 });
    expect(await routed(created.name)).toMatchObject({ maxOutputTokens: 100 });
    const cleared = await mutate(h, 'updateModel', 'UpdateModelInput', 'maxOutputTokens contextWindow', { id: created.id, contextWindow: null });
    expect(cleared.data).toEqual({ maxOutputTokens: 100, contextWindow: null });
  });

  it('refuses unknown models and bad values, changing nothing', async () => {
    const created = await createModel(h);
    expect((await mutate(h, 'updateModel', 'UpdateModelInput', 'id', { id: MISSING, maxOutputTokens: 5 })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'updateModel', 'UpdateModelInput', 'id', { id: created.id, maxOutputTokens: 0 })).typename).toBe('ValidationError');
    expect(await model(created.id)).toMatchObject({ maxOutputTokens: 4096 });
  });
});

describe('model targets', () => {
  it('adds, changes and removes targets, republishing each time', async () => {
    const first = await createChannel(h);
    const second = await createChannel(h);
    const created = await createModel(h, { prices: [{ tier: 'resale', price: PRICE }] });
    const added = await mutate(h, 'addModelTarget', 'AddModelTargetInput', 'id channelId upstreamModel priority weight cost { input output }', {
      modelId: created.id, channelId: first, upstreamModel: 'up-a', cost: COST,
    });
    expect(added.data).toEqual({ id: expect.any(String), channelId: first, upstreamModel: 'up-a', priority: 0, weight: 1, cost: COST });
    expect((await routed(created.name))!.targets).toEqual([{ channelId: first, upstreamModel: 'up-a', priority: 0, weight: 1, cost: { input: '100000000', output: '400000000' } }]);

    const changed = await mutate(h, 'updateModelTarget', 'UpdateModelTargetInput', 'channelId upstreamModel priority weight cost { input output reasoning }', {
      id: added.data.id, channelId: second, priority: 5, weight: 9, cost: { input: '0.2', output: '0.3', reasoning: '0.9' },
    });
    expect(changed.data).toEqual({ channelId: second, upstreamModel: 'up-a', priority: 5, weight: 9, cost: { input: '0.2', output: '0.3', reasoning: '0.9' } });
    expect((await routed(created.name))!.targets).toEqual([
      { channelId: second, upstreamModel: 'up-a', priority: 5, weight: 9, cost: { input: '200000000', output: '300000000', reasoning: '900000000' } },
    ]);

    const removed = await mutate(h, 'removeModelTarget', 'ModelTargetIdInput', 'id', { id: added.data.id });
    expect(removed.data).toEqual({ id: added.data.id });
    expect((await routed(created.name))!.targets).toEqual([]);
    expect((await mutate(h, 'removeModelTarget', 'ModelTargetIdInput', 'id', { id: added.data.id })).typename).toBe('NotFoundError');
  });

  it('refuses duplicates, unknown records and bad values, changing nothing', async () => {
    const channel = await createChannel(h);
    const created = await createModel(h, { targets: [{ channelId: channel, upstreamModel: 'a', cost: COST }, { channelId: channel, upstreamModel: 'b', cost: COST }] });
    const before = await model(created.id);
    const a = (before.targets as { id: string; upstreamModel: string }[]).find((t) => t.upstreamModel === 'a');
    const add = (input: Record<string, unknown>) => mutate(h, 'addModelTarget', 'AddModelTargetInput', 'id', { modelId: created.id, channelId: channel, upstreamModel: 'c', cost: COST, ...input });
    expect((await add({ upstreamModel: 'a' })).typename).toBe('ConflictError');
    expect((await add({ modelId: MISSING })).typename).toBe('NotFoundError');
    expect((await add({ channelId: MISSING })).typename).toBe('NotFoundError');
    expect((await add({ priority: -1 })).typename).toBe('ValidationError');
    expect((await add({ cost: { input: '-0.1', output: '1' } })).typename).toBe('ValidationError');
    const update = (input: Record<string, unknown>) => mutate(h, 'updateModelTarget', 'UpdateModelTargetInput', 'id', { id: a!.id, ...input });
    expect((await update({ upstreamModel: 'b' })).typename).toBe('ConflictError');
    expect((await update({ id: MISSING, weight: 2 })).typename).toBe('NotFoundError');
    expect((await update({ channelId: MISSING })).typename).toBe('NotFoundError');
    expect((await update({ weight: 0 })).typename).toBe('ValidationError');
    expect(await model(created.id)).toEqual(before);
  });
});

describe('setModelPrice', () => {
  it('adds effective-dated prices per tier: the new one rules now, a scheduled one waits, history stays', async () => {
    const created = await createModel(h, { prices: [{ tier: 'resale', price: { input: '1', output: '2' } }] });
    const now = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'tier price { input output }', { modelId: created.id, tier: 'resale', price: { input: '3', output: '4' } });
    expect(now.data).toEqual({ tier: 'resale', price: { input: '3', output: '4' } });
    const later = new Date(Date.now() + 86_400_000).toISOString();
    await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'resale', price: { input: '5', output: '6' }, effectiveFrom: later });
    await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'cheap', price: { input: '0.5', output: '1' } });
    const m = await model(created.id);
    expect(m.prices).toEqual(expect.arrayContaining([{ tier: 'resale', price: expect.objectContaining({ input: '3', output: '4' }) }, { tier: 'cheap', price: expect.objectContaining({ input: '0.5', output: '1' }) }]));
    expect(m.prices).toHaveLength(2);
    expect(m.priceHistory.filter((p: { tier: string }) => p.tier === 'resale').map((p: { price: { input: string } }) => p.price.input)).toEqual(['5', '3', '1']);
    expect((await routed(created.name))!.prices).toEqual({ resale: { input: '3000000000', output: '4000000000' }, cheap: { input: '500000000', output: '1000000000' } });
  });

  it('refuses a past effective date, a second price for the same instant, and unknown models', async () => {
    const created = await createModel(h);
    const past = await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'resale', price: PRICE, effectiveFrom: new Date(Date.now() - 60_000).toISOString() });
    expect(past.typename).toBe('ValidationError');
    const at = new Date(Date.now() + 3_600_000).toISOString();
    expect((await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'resale', price: PRICE, effectiveFrom: at })).typename).toBe('MutationSetModelPriceSuccess');
    expect((await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'resale', price: PRICE, effectiveFrom: at })).typename).toBe('ConflictError');
    expect((await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: MISSING, tier: 'resale', price: PRICE })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'setModelPrice', 'SetModelPriceInput', 'id', { modelId: created.id, tier: 'cheap', price: { input: '1', output: '-1' } })).typename).toBe('ValidationError');
    expect((await model(created.id)).priceHistory).toHaveLength(1);
  });
});

describe('BYOK targets', () => {
  it('sets, replaces and removes the BYOK target for a provider', async () => {
    const created = await createModel(h);
    const set = await mutate(h, 'setModelByokTarget', 'SetModelByokTargetInput', 'provider upstreamModel listPrice { input output }', {
      modelId: created.id, provider: 'together', upstreamModel: 'meta/llama-a', listPrice: { input: '0.2', output: '0.2' },
    });
    expect(set.data).toEqual({ provider: 'together', upstreamModel: 'meta/llama-a', listPrice: { input: '0.2', output: '0.2' } });
    await mutate(h, 'setModelByokTarget', 'SetModelByokTargetInput', 'id', { modelId: created.id, provider: 'together', upstreamModel: 'meta/llama-b', listPrice: { input: '0.3', output: '0.4' } });
    expect((await model(created.id)).byokTargets).toEqual([{ provider: 'together', upstreamModel: 'meta/llama-b', listPrice: { input: '0.3', output: '0.4', cachedInput: null, cacheWrite: null, reasoning: null } }]);
    expect((await routed(created.name))!.byok).toEqual([{ provider: 'together', upstreamModel: 'meta/llama-b', listPrice: { input: '300000000', output: '400000000' } }]);

    const removed = await mutate(h, 'removeModelByokTarget', 'RemoveModelByokTargetInput', 'id', { modelId: created.id, provider: 'together' });
    expect(removed.typename).toBe('MutationRemoveModelByokTargetSuccess');
    expect((await model(created.id)).byokTargets).toEqual([]);
    // With no price and no BYOK target left, nothing of the model is for sale.
    expect(await routed(created.name)).toBeUndefined();
    expect((await mutate(h, 'removeModelByokTarget', 'RemoveModelByokTargetInput', 'id', { modelId: created.id, provider: 'together' })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'removeModelByokTarget', 'RemoveModelByokTargetInput', 'id', { modelId: created.id, provider: 'nope' })).typename).toBe('ValidationError');
    expect((await mutate(h, 'removeModelByokTarget', 'RemoveModelByokTargetInput', 'id', { modelId: MISSING, provider: 'together' })).typename).toBe('NotFoundError');
  });

  it('refuses providers that take no BYOK credentials and unknown models', async () => {
    const created = await createModel(h);
    const input = { modelId: created.id, provider: 'deepseek', upstreamModel: 'x', listPrice: PRICE };
    expect((await mutate(h, 'setModelByokTarget', 'SetModelByokTargetInput', 'id', input)).typename).toBe('ValidationError');
    expect((await mutate(h, 'setModelByokTarget', 'SetModelByokTargetInput', 'id', { ...input, provider: 'nope' })).typename).toBe('ValidationError');
    expect((await mutate(h, 'setModelByokTarget', 'SetModelByokTargetInput', 'id', { ...input, provider: 'groq', modelId: MISSING })).typename).toBe('NotFoundError');
    expect((await model(created.id)).byokTargets).toEqual([]);
  });
});
