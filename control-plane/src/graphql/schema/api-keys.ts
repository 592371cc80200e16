import { generateSecret } from '@tollgate/shared';
import { and, eq, ne } from 'drizzle-orm';
import { apiKeys } from '../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { ConflictError, isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { setApiKeyAllowedTiers, setApiKeyStatus } from '../../services/access.ts';
import { ApiKeyStatusEnum, TierEnum } from './enums.ts';

// Never exposes key_hash: the secret is shown once, in CreateApiKeyPayload, and nowhere else.
export const ApiKeyRef = builder.drizzleObject('apiKeys', {
  name: 'ApiKey',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix'),
    last4: t.exposeString('last4'),
    status: t.expose('status', { type: ApiKeyStatusEnum }),
    allowedTiers: t.expose('allowedTiers', {
      type: [TierEnum],
      nullable: true,
      description: 'Tiers this key may use, within its org\'s; null for all the org allows.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

interface CreatedApiKey {
  apiKey: typeof apiKeys.$inferSelect;
  secret: string;
}

const CreateApiKeyPayload = builder.objectRef<CreatedApiKey>('CreateApiKeyPayload').implement({
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
  }),
});

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const name = input.name.trim();
      if (!name) throw new ValidationError('name must not be empty', 'name');
      if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
        throw new ValidationError('expiresAt must be in the future', 'expiresAt');
      }
      const org = isUuid(input.orgId) ? await ctx.db.query.orgs.findFirst({ where: { id: input.orgId } }) : undefined;
      if (!org) throw new NotFoundError('no org with this id');
      const generated = generateSecret('api_key');
      const [apiKey] = await ctx.db
        .insert(apiKeys)
        .values({
          orgId: org.id,
          name,
          keyHash: generated.hash,
          prefix: generated.prefix,
          last4: generated.last4,
          expiresAt: input.expiresAt ?? null,
        })
        .returning();
      await ctx.publisher.publishKey(apiKey!.id);
      return { apiKey: apiKey!, secret: generated.secret };
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!isUuid(input.id)) throw new NotFoundError('no API key with this id');
      // Revoking twice is harmless: the first revocation time is kept. A disabled key can be revoked.
      const [revoked] = await ctx.db
        .update(apiKeys)
        .set({ status: 'revoked', revokedAt: new Date() })
        .where(and(eq(apiKeys.id, input.id), ne(apiKeys.status, 'revoked')))
        .returning();
      const key = revoked ?? (await ctx.db.query.apiKeys.findFirst({ where: { id: input.id } }));
      if (!key) throw new NotFoundError('no API key with this id');
      await ctx.publisher.publishKey(key.id);
      return key;
    },
  }),
}));

const ApiKeyIdInput = builder.inputType('ApiKeyIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const SetApiKeyAllowedTiersInput = builder.inputType('SetApiKeyAllowedTiersInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    tiers: t.field({ type: [TierEnum], description: 'At least one tier; null (or left out) allows all the org allows.' }),
  }),
});

builder.mutationFields((t) => ({
  disableApiKey: t.field({
    type: ApiKeyRef,
    description: 'The key stops working at once (HTTP 401 key_disabled) until it is enabled again.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, ConflictError] },
    args: { input: t.arg({ type: ApiKeyIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyStatus(ctx, input.id, 'disabled'),
  }),
  enableApiKey: t.field({
    type: ApiKeyRef,
    description: 'Re-enables a disabled key; a revoked key stays revoked (ConflictError).',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, ConflictError] },
    args: { input: t.arg({ type: ApiKeyIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyStatus(ctx, input.id, 'active'),
  }),
  setApiKeyAllowedTiers: t.field({
    type: ApiKeyRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetApiKeyAllowedTiersInput, required: true }) },
    resolve: (_root, { input }, ctx) => setApiKeyAllowedTiers(ctx, input.id, input.tiers ?? null),
  }),
}));
