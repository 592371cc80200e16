import type { ApiKey } from '../../db/schema/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { apiKeyUsage, createApiKey, deleteApiKey, rotateApiKey, setApiKeyStatus, updateApiKey } from '../../services/api-keys.ts';
import { builder } from '../builder.ts';
import { inputScope } from '../scopes.ts';
import { ApiKeyStatusEnum, TierEnum } from './enums.ts';
import { DeletedRecordRef } from './results.ts';

const KeyUsageRef = builder
  .objectRef<{ requests: number; inputTokens: number; outputTokens: number; cost: bigint; lastUsedAt: Date | null }>('ApiKeyUsage')
  .implement({
    description: 'What a key was used for, from its usage records.',
    fields: (t) => ({
      requests: t.exposeInt('requests'),
      inputTokens: t.expose('inputTokens', { type: 'TokenCount', description: 'Input tokens of every kind (plain, cached, cache writes).' }),
      outputTokens: t.expose('outputTokens', { type: 'TokenCount', description: 'Output tokens, reasoning included.' }),
      cost: t.expose('cost', { type: 'Credits' }),
      lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'When its last request was recorded.' }),
    }),
  });

// Never exposes key_hash: the secret is shown once, in ApiKeySecret, and nowhere else.
export const ApiKeyRef = builder.drizzleObject('apiKeys', {
  name: 'ApiKey',
  description: 'A customer API key for the data plane\'s /v1 API.',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, e.g. "tg_AbCd".' }),
    last4: t.exposeString('last4'),
    status: t.expose('status', { type: ApiKeyStatusEnum }),
    allowedTiers: t.expose('allowedTiers', {
      type: [TierEnum],
      nullable: true,
      description: 'Tiers this key may use, within its org\'s; null for all the org allows.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation with a grace period: when the old secret stops working.',
      resolve: (k) => (k.previousExpiresAt && k.previousExpiresAt.getTime() > Date.now() ? k.previousExpiresAt : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    usage: t.field({
      type: KeyUsageRef,
      description: 'Usage since an instant (all time when left out). Needs billing:read.',
      authScopes: (k) => ({ org: { id: k.orgId, can: 'billing:read' } }),
      args: { since: t.arg({ type: 'DateTime' }) },
      resolve: (k, args, ctx) => apiKeyUsage(ctx, k.id, args.since ?? null),
    }),
  }),
});

const ApiKeySecretRef = builder.objectRef<{ apiKey: ApiKey; secret: string }>('ApiKeySecret').implement({
  description: 'A key and its secret, shown only here, once.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
    secret: t.exposeString('secret', { description: 'The full key. Shown only here, once; store it now.' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    name: t.string({ required: true }),
    expiresAt: t.field({ type: 'DateTime', description: 'Omit for a key that does not expire.' }),
    allowedTiers: t.field({ type: [TierEnum], description: 'Omit for all the org allows.' }),
  }),
});

const UpdateApiKeyInput = builder.inputType('UpdateApiKeyInput', {
  description: 'Fields left out keep their value. expiresAt: null never expires; allowedTiers: null allows all the org allows.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    expiresAt: t.field({ type: 'DateTime' }),
    allowedTiers: t.field({ type: [TierEnum] }),
  }),
});

const RotateApiKeyInput = builder.inputType('RotateApiKeyInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    gracePeriodSeconds: t.int({ description: 'How long the old secret keeps working (0 to 2592000, i.e. 30 days); 0 or left out: it stops at once.' }),
  }),
});

const ApiKeyIdInput = builder.inputType('ApiKeyIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const SetApiKeyAllowedTiersInput = builder.inputType('SetApiKeyAllowedTiersInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    tiers: t.field({ type: [TierEnum], description: 'At least one tier; null (or left out) allows all the org allows.' }),
  }),
});

const writeKeys = inputScope('apiKey', 'keys:write');

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'Needs keys:write in the org.',
    authScopes: inputScope('org', 'keys:write', 'orgId'),
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(ctx, input, ctx.user?.id ?? null),
  }),
  updateApiKey: t.field({
    type: ApiKeyRef,
    description: 'Renames a key, changes its expiry or its tiers. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateApiKey(ctx, input),
  }),
  rotateApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'A new secret for the key, shown once; the old one works until the grace period ends. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: RotateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => rotateApiKey(ctx, input),
  }),
  disableApiKey: t.field({
    type: ApiKeyRef,
    description: 'The key stops working at once (HTTP 401 key_disabled) until it is enabled again. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [NotFoundError, ConflictError] },
    args: { input: t.arg({ type: ApiKeyIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyStatus(ctx, input.id, 'disabled'),
  }),
  enableApiKey: t.field({
    type: ApiKeyRef,
    description: 'Re-enables a disabled key; a revoked key stays revoked (ConflictError). Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [NotFoundError, ConflictError] },
    args: { input: t.arg({ type: ApiKeyIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyStatus(ctx, input.id, 'active'),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: 'Stops the key for good, keeping it listed. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyStatus(ctx, input.id, 'revoked'),
  }),
  deleteApiKey: t.field({
    type: DeletedRecordRef,
    description: 'Deletes the key; its secrets stop at once, its usage records stay. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ApiKeyIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await deleteApiKey(ctx, input.id)).id }),
  }),
  setApiKeyAllowedTiers: t.field({
    type: ApiKeyRef,
    description: 'The same as updateApiKey with allowedTiers. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetApiKeyAllowedTiersInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateApiKey(ctx, { id: input.id, allowedTiers: input.tiers ?? null }),
  }),
}));
