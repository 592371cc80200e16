import { hashSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createModel, createOrg, PRICE, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

let h: Harness;
let premium: string;
let economy: string;

beforeAll(async () => {
  h = await createHarness();
  premium = (await createModel(h, { prices: [{ tier: 'resale', price: PRICE }] })).name;
  economy = (await createModel(h, { prices: [{ tier: 'cheap', price: PRICE }] })).name;
});
afterAll(async () => {
  await h?.cleanup();
});

const PLAN_FIELDS = `id name window premiumAllowanceTokens concurrency continuationAllowed fallbackAllowed
  premiumLane { model tier } continuationLane { model tier } fallbackLane { model tier }`;
const MISSING = '00000000-0000-4000-8000-0000000000dd';

function planInput(overrides: Record<string, unknown> = {}) {
  return {
    name: unique('flat'), window: 'month', premiumAllowanceTokens: 5_000_000_000, concurrency: 3, continuationAllowed: true, fallbackAllowed: false,
    premiumLane: { model: premium, tier: 'resale' }, continuationLane: { model: economy, tier: 'cheap' }, ...overrides,
  };
}

async function plan(id: string) {
  return ((await h.gql(`{ plans(first: 100) { edges { node { ${PLAN_FIELDS} } } } }`)).data!.plans.edges as { node: { id: string } }[]).map((e) => e.node).find((p) => p.id === id) ?? null;
}

describe('createPlan', () => {
  it('creates a plan with its lanes and publishes it', async () => {
    const input = planInput({ fallbackAllowed: true, fallbackLane: { model: premium, tier: 'byok' } });
    const r = await mutate(h, 'createPlan', 'CreatePlanInput', PLAN_FIELDS, input);
    expect(r.data).toEqual({
      id: expect.any(String), name: input.name, window: 'month', premiumAllowanceTokens: 5_000_000_000, concurrency: 3, continuationAllowed: true, fallbackAllowed: true,
      premiumLane: { model: premium, tier: 'resale' }, continuationLane: { model: economy, tier: 'cheap' }, fallbackLane: { model: premium, tier: 'byok' },
    });
    expect((await h.store.getRouteTable())!.plans[r.data.id]).toMatchObject({ name: input.name, premiumAllowanceTokens: 5_000_000_000, lanes: { fallback: { model: premium, tier: 'byok' } } });
  });

  it('refuses unknown lane models, a taken name and permissions without their lane, creating nothing', async () => {
    const taken = planInput();
    await mutate(h, 'createPlan', 'CreatePlanInput', 'id', taken);
    const before = (await h.gql(`{ plans(first: 100) { edges { node { id } } } }`)).data!.plans.edges.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ premiumLane: { model: 'no-such-model', tier: 'resale' } }, 'NotFoundError'],
      [{ name: taken.name }, 'ConflictError'],
      [{ continuationLane: null }, 'ValidationError'],
      [{ fallbackAllowed: true }, 'ValidationError'],
      [{ concurrency: 0 }, 'ValidationError'],
      [{ name: ' ' }, 'ValidationError'],
      [{ premiumAllowanceTokens: -1 }, 'none'],
      [{ window: 'year' }, 'none'],
    ];
    for (const [overrides, typename] of cases) {
      const r = await mutate(h, 'createPlan', 'CreatePlanInput', 'id', planInput(overrides));
      expect({ overrides, typename: r.typename }).toEqual({ overrides, typename });
    }
    expect((await h.gql(`{ plans(first: 100) { edges { node { id } } } }`)).data!.plans.edges.length).toBe(before);
  });
});

describe('updatePlan', () => {
  it('changes fields, removes a lane with its permission, and republishes', async () => {
    const id = (await mutate(h, 'createPlan', 'CreatePlanInput', 'id', planInput())).data.id;
    const name = unique('renamed');
    const r = await mutate(h, 'updatePlan', 'UpdatePlanInput', PLAN_FIELDS, {
      id, name, window: 'day', premiumAllowanceTokens: 10, concurrency: null, continuationAllowed: false, continuationLane: null,
    });
    expect(r.data).toMatchObject({ name, window: 'day', premiumAllowanceTokens: 10, concurrency: null, continuationAllowed: false, continuationLane: null, premiumLane: { model: premium, tier: 'resale' } });
    expect((await h.store.getRouteTable())!.plans[id]).toMatchObject({ name, window: 'day', concurrency: null, lanes: { continuation: null } });
  });

  it('refuses a lane removal its permission still needs, and unknown plans, changing nothing', async () => {
    const taken = planInput();
    await mutate(h, 'createPlan', 'CreatePlanInput', 'id', taken);
    const id = (await mutate(h, 'createPlan', 'CreatePlanInput', 'id', planInput())).data.id;
    const before = await plan(id);
    expect((await mutate(h, 'updatePlan', 'UpdatePlanInput', 'id', { id, name: taken.name })).typename).toBe('ConflictError');
    expect((await mutate(h, 'updatePlan', 'UpdatePlanInput', 'id', { id, concurrency: 0 })).typename).toBe('ValidationError');
    expect((await mutate(h, 'updatePlan', 'UpdatePlanInput', 'id', { id, continuationLane: null })).typename).toBe('ValidationError');
    expect((await mutate(h, 'updatePlan', 'UpdatePlanInput', 'id', { id, premiumLane: { model: 'nope', tier: 'cheap' } })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'updatePlan', 'UpdatePlanInput', 'id', { id: MISSING, name: 'x' })).typename).toBe('NotFoundError');
    expect(await plan(id)).toEqual(before);
  });
});

describe('setOrgPlan and deletePlan', () => {
  it('puts an org on a plan (its keys carry it), refuses deleting a plan in use, deletes it once unused', async () => {
    const id = (await mutate(h, 'createPlan', 'CreatePlanInput', 'id', planInput())).data.id;
    const orgName = unique('acme');
    const orgId = await createOrg(h, orgName);
    const keys = [await createApiKey(h, orgId), await createApiKey(h, orgId)];
    const set = await mutate(h, 'setOrgPlan', 'SetOrgPlanInput', 'plan { id }', { orgId, planId: id });
    expect(set.data).toEqual({ plan: { id } });
    for (const key of keys) expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ planId: id });

    const refused = await h.gql(`mutation($input: PlanIdInput!) { deletePlan(input: $input) { __typename ... on InUseError { usedBy } } }`, { input: { id } });
    expect(refused.data!.deletePlan).toEqual({ __typename: 'InUseError', usedBy: [orgName] });
    expect(await plan(id)).not.toBeNull();

    const off = await mutate(h, 'setOrgPlan', 'SetOrgPlanInput', 'plan { id }', { orgId, planId: null });
    expect(off.data).toEqual({ plan: null });
    for (const key of keys) expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ planId: null });
    const deleted = await mutate(h, 'deletePlan', 'PlanIdInput', 'id', { id });
    expect(deleted.data).toEqual({ id });
    expect(await plan(id)).toBeNull();
    expect((await h.store.getRouteTable())!.plans[id]).toBeUndefined();
    expect((await mutate(h, 'deletePlan', 'PlanIdInput', 'id', { id })).typename).toBe('NotFoundError');
  });

  it('refuses unknown orgs and plans', async () => {
    const orgId = await createOrg(h);
    const id = (await mutate(h, 'createPlan', 'CreatePlanInput', 'id', planInput())).data.id;
    expect((await mutate(h, 'setOrgPlan', 'SetOrgPlanInput', 'id', { orgId, planId: MISSING })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'setOrgPlan', 'SetOrgPlanInput', 'id', { orgId: MISSING, planId: id })).typename).toBe('NotFoundError');
    expect((await h.gql(`query($id: ID!) { org(id: $id) { plan { id } } }`, { id: orgId })).data!.org.plan).toBeNull();
  });
});
