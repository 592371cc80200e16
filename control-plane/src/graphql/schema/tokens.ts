import type { ManagementToken } from '../../db/schema/index.ts';
import { isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { createManagementToken, revokeManagementToken } from '../../services/tokens.ts';
import { builder } from '../builder.ts';
import { OrgRoleEnum } from './members.ts';
import { UserRef } from './viewer.ts';

// Never exposes token_hash: the secret is shown once, in ManagementTokenSecret.
export const ManagementTokenRef = builder.drizzleObject('managementTokens', {
  name: 'ManagementToken',
  description: 'A bearer token for automation, scoped to one org and a role, or to the platform.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix'),
    last4: t.exposeString('last4'),
    orgId: t.exposeID('orgId', { nullable: true, description: 'Null for a platform token.' }),
    org: t.relation('org', { nullable: true }),
    role: t.exposeString('role', { description: 'An org role, or "operator" for a platform token.' }),
    user: t.relation('user', { type: UserRef }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Updated at most once a minute.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.queryField('managementTokens', (t) =>
  t.drizzleConnection({
    type: 'managementTokens',
    description: 'Your own tokens, newest first; operators see everyone\'s (or one user\'s).',
    authScopes: { authenticated: true },
    args: { userId: t.arg.id(), includeRevoked: t.arg.boolean({ description: 'Defaults to false.' }) },
    resolve: (query, _root, args, ctx) => {
      const userId = ctx.access.isOperator ? (args.userId ?? undefined) : ctx.user!.id;
      if (userId && !isUuid(userId)) return [];
      return ctx.db.query.managementTokens.findMany(
        query({
          where: { ...(userId ? { userId } : {}), ...(args.includeRevoked ? {} : { revokedAt: { isNull: true } }) },
          orderBy: { createdAt: 'desc' },
        }),
      );
    },
  }),
);

const ManagementTokenSecretRef = builder.objectRef<{ token: ManagementToken; secret: string }>('ManagementTokenSecret').implement({
  fields: (t) => ({
    token: t.field({ type: ManagementTokenRef, resolve: (p) => p.token }),
    secret: t.exposeString('secret', { description: 'Shown only here, once. Send it as Authorization: Bearer <secret>.' }),
  }),
});

const CreateManagementTokenInput = builder.inputType('CreateManagementTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    orgId: t.id({ description: 'The org it acts in; left out, a platform token (operators only).' }),
    role: t.field({ type: OrgRoleEnum, description: 'For an org token; at most your own role there. Defaults to viewer.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'Within two years; left out, it does not expire.' }),
  }),
});

const RevokeManagementTokenInput = builder.inputType('RevokeManagementTokenInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  createManagementToken: t.field({
    type: ManagementTokenSecretRef,
    description: 'A token for the caller. It never grants more than the caller has: an org token stops working when its user leaves the org.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: CreateManagementTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createManagementToken(ctx, ctx.access, { name: input.name, orgId: input.orgId ?? null, role: input.role ?? null, expiresAt: input.expiresAt ?? null }),
  }),
  revokeManagementToken: t.field({
    type: ManagementTokenRef,
    description: 'Revokes one of your tokens (operators: anyone\'s). Revoking twice is harmless.',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RevokeManagementTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => revokeManagementToken(ctx, ctx.access, input.id),
  }),
}));
