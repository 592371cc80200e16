import { sql } from 'drizzle-orm';
import { ConflictError, InUseError, isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { setOrgAllowedTiers } from '../../services/access.ts';
import { inviteMember } from '../../services/members.ts';
import { createOrg, deleteOrg, updateOrg } from '../../services/orgs.ts';
import { builder } from '../builder.ts';
import { createdAtBound } from '../keyset.ts';
import { inputScope } from '../scopes.ts';
import { ApiKeyStatusEnum, TierEnum } from './enums.ts';
import { LimitsInput, LimitsRef } from './limits.ts';
import { DeletedRecordRef } from './results.ts';

const billing = (org: { id: string }) => ({ org: { id: org.id, can: 'billing:read' as const } });

export const OrgRef = builder.drizzleObject('orgs', {
  name: 'Org',
  description: 'A customer organisation: its keys, members, BYOK credentials, balance and usage. Each field needs the permission its description names.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    slug: t.string({ description: 'The org\'s unique handle; createOrg and tollgate apply are idempotent on it.', resolve: (o) => o.slug ?? o.id }),
    defaultTier: t.expose('defaultTier', { type: TierEnum }),
    allowedTiers: t.expose('allowedTiers', {
      type: [TierEnum],
      nullable: true,
      description: 'Tiers the org\'s keys may use; null for all. A key\'s own restriction narrows it further.',
    }),
    plan: t.relation('plan', { nullable: true, description: 'The flat-fee plan: `auto` lanes, fair use, concurrency.' }),
    limits: t.field({
      type: LimitsRef,
      description: 'Ceilings over all the org\'s keys together (the operator sets them); each key\'s own limits apply within them.',
      resolve: (o) => o,
    }),
    overdraft: t.expose('overdraft', {
      type: 'Credits',
      description: 'How far below zero the balance may go before requests get HTTP 402 insufficient_balance (the operator sets it). Needs billing:read.',
      authScopes: billing,
    }),
    lowBalanceThreshold: t.expose('lowBalanceThreshold', {
      type: 'Credits',
      nullable: true,
      description: 'Each time the balance falls below it, one low_balance alert (Org.alerts); null for none. Needs billing:read.',
      authScopes: billing,
    }),
    alerts: t.relatedConnection('alerts', {
      description: 'Newest first. Needs billing:read.',
      authScopes: billing,
      query: { orderBy: { createdAt: 'desc', id: 'desc' } },
    }),
    viewerRole: t.string({
      nullable: true,
      description: 'The caller\'s role in this org (owner, admin, developer, billing, viewer); null for an operator who is not a member.',
      resolve: (o, _args, ctx) => ctx.access.roleIn(o.id),
    }),
    byokCredentials: t.relatedConnection('byokCredentials', {
      description: 'The org\'s own provider credentials, shown by their last 4 characters. Needs byok:read.',
      authScopes: (o) => ({ org: { id: o.id, can: 'byok:read' } }),
      query: { orderBy: { provider: 'asc' } },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    balance: t.field({
      type: 'Credits',
      description: 'The sum of the org\'s ledger entries (a row kept with the ledger, checked by reconcile). Needs billing:read.',
      authScopes: billing,
      // Read as text: it stays exact past 2^53.
      select: {
        extras: {
          balance: (org) => sql<string>`(select coalesce((select balance from org_balances where org_balances.org_id = ${org.id}), 0)::text)`,
        },
      },
      resolve: (org) => BigInt(org.balance),
    }),
    apiKeys: t.relatedConnection('apiKeys', {
      description: 'Newest first. Needs keys:read.',
      authScopes: (o) => ({ org: { id: o.id, can: 'keys:read' } }),
      args: { status: t.arg({ type: ApiKeyStatusEnum, description: 'Only keys with this status.' }) },
      query: (args) => ({ where: args.status ? { status: args.status } : {}, orderBy: { createdAt: 'desc' } }),
    }),
    members: t.relatedConnection('members', {
      description: 'Needs members:read.',
      authScopes: (o) => ({ org: { id: o.id, can: 'members:read' } }),
      query: { orderBy: { createdAt: 'asc' } },
    }),
    invitations: t.relatedConnection('invitations', {
      description: 'Open invitations first. Needs members:manage.',
      authScopes: (o) => ({ org: { id: o.id, can: 'members:manage' } }),
      query: { where: { acceptedAt: { isNull: true }, revokedAt: { isNull: true } }, orderBy: { createdAt: 'desc' } },
    }),
    // A connection, not a list: every metered request adds an entry. Pothos adds the primary key
    // to the cursor ordering, so entries sharing a created_at are each visited once.
    ledgerEntries: t.relatedConnection('ledgerEntries', {
      description: 'Newest first. Needs billing:read.',
      authScopes: billing,
      // The bound on created_at lets a deep page start at its cursor in the index (keyset.ts).
      query: (args) => ({ where: createdAtBound(args), orderBy: { createdAt: 'desc' } }),
    }),
    usageRecords: t.relatedConnection('usageRecords', {
      description: 'Newest first. Needs billing:read.',
      authScopes: billing,
      // The request id breaks ties: one consumer batch shares one created_at.
      query: (args) => ({ where: createdAtBound(args), orderBy: { createdAt: 'desc', requestId: 'desc' } }),
    }),
  }),
});

builder.queryFields((t) => ({
  orgs: t.drizzleConnection({
    type: 'orgs',
    description: 'The orgs the caller can see (every org for operators), by creation time.',
    authScopes: { authenticated: true },
    args: { search: t.arg.string({ description: 'Part of the name or slug, case-insensitive.' }) },
    resolve: async (query, _root, args, ctx) => {
      const ids = await ctx.access.readableOrgIds();
      if (ids !== 'all' && ids.length === 0) return [];
      const search = args.search?.trim() ? `%${args.search.trim().replace(/[%_\\]/g, (c) => `\\${c}`)}%` : null;
      return ctx.db.query.orgs.findMany(
        query({
          where: {
            ...(ids === 'all' ? {} : { id: { in: ids } }),
            ...(search ? { OR: [{ name: { ilike: search } }, { slug: { ilike: search } }] } : {}),
          },
          orderBy: { createdAt: 'asc' },
        }),
      );
    },
  }),
  org: t.drizzleField({
    type: OrgRef,
    nullable: true,
    description: 'An org by id or slug. Needs org:read.',
    args: { id: t.arg.id({ description: 'The org\'s id.' }), slug: t.arg.string() },
    authScopes: async (_root, args, ctx) => {
      const id = args.id ?? (args.slug ? (await ctx.db.query.orgs.findFirst({ columns: { id: true }, where: { slug: args.slug } }))?.id : null);
      return { org: { id, can: 'org:read' } };
    },
    resolve: async (query, _root, args, ctx) => {
      if (args.id) return isUuid(args.id) ? ((await ctx.db.query.orgs.findFirst(query({ where: { id: args.id } }))) ?? null) : null;
      if (args.slug) return (await ctx.db.query.orgs.findFirst(query({ where: { slug: args.slug } }))) ?? null;
      return null;
    },
  }),
}));

const CreateOrgInput = builder.inputType('CreateOrgInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    slug: t.string({ description: 'Defaults to one made from the name. Creating again with the same slug and settings returns the existing org.' }),
    defaultTier: t.field({ type: TierEnum, description: 'Defaults to resale.' }),
    ownerEmail: t.string({ description: 'Invites this person as the org\'s owner (an email with a link).' }),
    limits: t.field({ type: LimitsInput, description: 'Ceilings over all the org\'s keys; omit for none.' }),
    overdraft: t.field({ type: 'Credits', description: 'How far below zero the balance may go; 0 when left out.' }),
    lowBalanceThreshold: t.field({ type: 'Credits', description: 'Alert when the balance falls below it; none when left out.' }),
  }),
});

const UpdateOrgInput = builder.inputType('UpdateOrgInput', {
  description: 'Fields left out keep their value; null clears limits (all, or one field at a time), the overdraft (to 0) and the threshold.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    slug: t.string(),
    defaultTier: t.field({ type: TierEnum }),
    limits: t.field({ type: LimitsInput, description: 'Operators only: ceilings over all the org\'s keys.' }),
    overdraft: t.field({ type: 'Credits', description: 'Operators only: how far below zero the balance may go (at least 0).' }),
    lowBalanceThreshold: t.field({ type: 'Credits' }),
  }),
});

const OrgIdInput = builder.inputType('OrgIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  createOrg: t.field({
    type: OrgRef,
    description: 'Operators only. Idempotent on the slug.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateOrgInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { org, created } = await createOrg(ctx, input, null);
      if (created && input.ownerEmail) {
        await inviteMember(ctx, ctx.access, { orgId: org.id, email: input.ownerEmail, role: 'owner' });
        await ctx.email.deliver();
      }
      return org;
    },
  }),
  updateOrg: t.field({
    type: OrgRef,
    description: 'Needs org:update; limits and overdraft are what the org is sold, so only operators change them.',
    // What the org is sold (ceilings, overdraft) is the operator's; its name and alerts are its own.
    authScopes: (root, args, ctx) =>
      args.input.limits !== undefined || args.input.overdraft !== undefined ? { platformAdmin: true } : inputScope('org', 'org:update')(root, args, ctx),
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: UpdateOrgInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateOrg(ctx, input),
  }),
  deleteOrg: t.field({
    type: DeletedRecordRef,
    description: 'Needs org:delete (owners). Refused with InUseError for an org with ledger entries or usage: its books stay.',
    authScopes: inputScope('org', 'org:delete'),
    errors: { types: [NotFoundError, InUseError] },
    args: { input: t.arg({ type: OrgIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await deleteOrg(ctx, input.id)).id }),
  }),
}));

const SetOrgAllowedTiersInput = builder.inputType('SetOrgAllowedTiersInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    tiers: t.field({ type: [TierEnum], description: 'At least one tier; null (or left out) allows all.' }),
  }),
});

builder.mutationField('setOrgAllowedTiers', (t) =>
  t.field({
    type: OrgRef,
    description: 'Operators only. Restricts the tiers every key of the org may use; requests on another tier get HTTP 403 tier_not_allowed.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetOrgAllowedTiersInput, required: true }) },
    resolve: (_root, { input }, ctx) => setOrgAllowedTiers(ctx, input.orgId, input.tiers ?? null),
  }),
);
