import { hashSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createOrg } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.cleanup();
});

const MISSING = '00000000-0000-4000-8000-0000000000cc';

describe('tier restrictions', () => {
  it('restricts an org and a key; the key record carries the intersection', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const org = await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'allowedTiers', { orgId, tiers: ['byok', 'resale', 'byok'] });
    expect(org.data).toEqual({ allowedTiers: ['resale', 'byok'] });
    const restricted = await mutate(h, 'setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', 'allowedTiers', { id: key.id, tiers: ['cheap', 'byok'] });
    expect(restricted.data).toEqual({ allowedTiers: ['cheap', 'byok'] });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ allowedTiers: ['byok'] });

    const unrestricted = await mutate(h, 'setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', 'allowedTiers', { id: key.id, tiers: null });
    expect(unrestricted.data).toEqual({ allowedTiers: null });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ allowedTiers: ['resale', 'byok'] });
    const open = await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'allowedTiers', { orgId });
    expect(open.data).toEqual({ allowedTiers: null });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ allowedTiers: null });
  });

  it('refuses an empty list and unknown records, changing nothing', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    expect((await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'id', { orgId, tiers: [] })).typename).toBe('ValidationError');
    expect((await mutate(h, 'setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', 'id', { id: key.id, tiers: [] })).typename).toBe('ValidationError');
    expect((await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'id', { orgId: MISSING, tiers: ['cheap'] })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', 'id', { id: MISSING, tiers: ['cheap'] })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'setOrgAllowedTiers', 'SetOrgAllowedTiersInput', 'id', { orgId, tiers: ['gold'] })).typename).toBe('none');
    const r = await h.gql(`query($id: ID!) { org(id: $id) { allowedTiers apiKeys { edges { node { allowedTiers } } } } }`, { id: orgId });
    expect(r.data!.org).toEqual({ allowedTiers: null, apiKeys: { edges: [{ node: { allowedTiers: null } }] } });
    expect(await h.store.getKeyRecord(hashSecret(key.secret))).toMatchObject({ allowedTiers: null });
  });
});

describe('key status', () => {
  it('disables and re-enables a key; a revoked key stays revoked', async () => {
    const orgId = await createOrg(h);
    const key = await createApiKey(h, orgId);
    const hash = hashSecret(key.secret);
    expect((await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'status', { id: key.id })).data).toEqual({ status: 'disabled' });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ status: 'disabled' });
    expect((await mutate(h, 'enableApiKey', 'ApiKeyIdInput', 'status', { id: key.id })).data).toEqual({ status: 'active' });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ status: 'active' });

    await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'status', { id: key.id });
    expect((await mutate(h, 'revokeApiKey', 'RevokeApiKeyInput', 'status', { id: key.id })).data).toEqual({ status: 'revoked' });
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ status: 'revoked' });
    expect((await mutate(h, 'enableApiKey', 'ApiKeyIdInput', 'status', { id: key.id })).typename).toBe('ConflictError');
    expect((await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'status', { id: key.id })).typename).toBe('ConflictError');
    expect(await h.store.getKeyRecord(hash)).toMatchObject({ status: 'revoked' });
    expect((await mutate(h, 'disableApiKey', 'ApiKeyIdInput', 'status', { id: MISSING })).typename).toBe('NotFoundError');
    expect((await mutate(h, 'enableApiKey', 'ApiKeyIdInput', 'status', { id: 'nope' })).typename).toBe('NotFoundError');
  });
});

describe('BYOK fee', () => {
  it('defaults to 500 basis points, is set within 0 to 10000, and is published', async () => {
    expect((await h.gql(`{ settings { byokFeeBps } }`)).data!.settings).toEqual({ byokFeeBps: 500 });
    expect((await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: 10_001 })).typename).toBe('ValidationError');
    expect((await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: -1 })).typename).toBe('ValidationError');
    expect((await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: 750 })).data).toEqual({ byokFeeBps: 750 });
    expect((await h.gql(`{ settings { byokFeeBps } }`)).data!.settings).toEqual({ byokFeeBps: 750 });
    expect((await h.store.getRouteTable())!.byokFeeBps).toBe(750);
    expect((await mutate(h, 'setByokFee', 'SetByokFeeInput', 'byokFeeBps', { byokFeeBps: 0 })).data).toEqual({ byokFeeBps: 0 });
    expect((await h.store.getRouteTable())!.byokFeeBps).toBe(0);
  });
});
