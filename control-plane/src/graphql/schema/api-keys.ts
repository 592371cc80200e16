import type { ApiKey } from '../../db/schema/index.ts';
import { ConflictError, isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { apiKeySpend, apiKeyUsage, createApiKey, deleteApiKey, rotateApiKey, setApiKeyStatus, updateApiKey, type KeySpend } from '../../services/api-keys.ts';
import { builder, type OrgScope } from '../builder.ts';
import type { Context } from '../context.ts';
import { inputScope, orgOf } from '../scopes.ts';
import { ApiKeyStatusEnum, TierEnum } from './enums.ts';
import { LimitsInput, LimitsRef, MetadataEntryInput, MetadataEntryRef, metadataEntries } from './limits.ts';
import { DeletedRecordRef } from './results.ts';

const KeySpendRef = builder.objectRef<KeySpend>('ApiKeySpend').implement({
  description: 'Credits a key spent, from its usage records, by when each request started: the windows its credit limits count.',
  fields: (t) => ({
    lifetime: t.expose('lifetime', { type: 'Credits' }),
    day: t.expose('day', { type: 'Credits', description: 'Since 00:00 UTC today.' }),
    week: t.expose('week', { type: 'Credits', description: 'Since Monday 00:00 UTC (ISO week).' }),
    month: t.expose('month', { type: 'Credits', description: 'Since the 1st of this month, 00:00 UTC.' }),
  }),
});

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
    limits: t.field({ type: LimitsRef, description: 'The key\'s own limits, within its org\'s ceilings and its member\'s allowance.', resolve: (k) => k }),
    metadata: t.field({ type: [MetadataEntryRef], description: 'The owner\'s labels, by key; never sent upstream.', resolve: (k) => metadataEntries(k.metadata) }),
    member: t.relation('member', {
      nullable: true,
      description: 'The member the key belongs to (its spend counts against their monthly allowance); null for an org (service) key.',
    }),
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
    spend: t.field({
      type: KeySpendRef,
      description: 'Credits spent over its lifetime, today, this ISO week and this month (UTC). Needs billing:read.',
      authScopes: (k) => ({ org: { id: k.orgId, can: 'billing:read' } }),
      resolve: (k, _args, ctx) => apiKeySpend(ctx, k.id),
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
    limits: t.field({ type: LimitsInput, description: 'Omit for none.' }),
    metadata: t.field({ type: [MetadataEntryInput], description: 'Labels for your own use.' }),
    serviceKey: t.boolean({
      description:
        'An org key that belongs to no member. Without it, a key created by a member of the org is theirs: its spend counts against their monthly allowance. Needs members:manage (owners, admins).',
    }),
  }),
});

const UpdateApiKeyInput = builder.inputType('UpdateApiKeyInput', {
  description:
    'Fields left out keep their value. expiresAt: null never expires; allowedTiers: null allows all the org allows; limits: null removes them all (or one field at a time); metadata replaces the labels (null removes them).',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    expiresAt: t.field({ type: 'DateTime' }),
    allowedTiers: t.field({ type: [TierEnum] }),
    limits: t.field({ type: LimitsInput }),
    metadata: t.field({ type: [MetadataEntryInput] }),
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

/** keys:write, and members:manage too where the secret would go to someone who is not the key's member. */
const keysAndMembers = (orgId: string | null): { $all: { org: OrgScope; $all: { org: OrgScope } } } => ({
  $all: { org: { id: orgId, can: 'keys:write' }, $all: { org: { id: orgId, can: 'members:manage' } } },
});

/**
 * A new secret is a key's spending power: members rotate their own keys; another member's key or
 * an org key needs members:manage, or a developer could spend beyond their own allowance with it.
 */
async function rotateScope(_root: unknown, args: { input: { id: string } }, ctx: Context) {
  const key = isUuid(args.input.id)
    ? await ctx.db.query.apiKeys.findFirst({ columns: { orgId: true }, where: { id: args.input.id }, with: { member: { columns: { userId: true } } } })
    : undefined;
  const orgId = key?.orgId ?? null;
  const own = key?.member != null && ctx.user !== null && key.member.userId === ctx.user.id;
  return own ? { org: { id: orgId, can: 'keys:write' as const } } : keysAndMembers(orgId);
}

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'Needs keys:write in the org (and members:manage for a service key).',
    authScopes: async (_root, args, ctx) => {
      const orgId = await orgOf(ctx, 'org', args.input.orgId);
      return args.input.serviceKey ? keysAndMembers(orgId) : { org: { id: orgId, can: 'keys:write' as const } };
    },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(ctx, input, ctx.user?.id ?? null),
  }),
  updateApiKey: t.field({
    type: ApiKeyRef,
    description: 'Renames a key, changes its expiry, tiers, limits or labels. Needs keys:write.',
    authScopes: writeKeys,
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateApiKey(ctx, input),
  }),
  rotateApiKey: t.field({
    type: ApiKeySecretRef,
    description:
      'A new secret for the key, shown once; the old one works until the grace period ends. Needs keys:write; a key that is not your own (another member\'s, or an org key) needs members:manage too.',
    authScopes: rotateScope,
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
