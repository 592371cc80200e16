import { isTier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { orgs } from '../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { setOrgAllowedTiers } from '../../services/access.ts';
import { TierEnum } from './enums.ts';

export const OrgRef = builder.drizzleObject('orgs', {
  name: 'Org',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    defaultTier: t.expose('defaultTier', { type: TierEnum }),
    allowedTiers: t.expose('allowedTiers', {
      type: [TierEnum],
      nullable: true,
      description: 'Tiers the org\'s keys may use; null for all. A key\'s own restriction narrows it further.',
    }),
    plan: t.relation('plan', { nullable: true, description: 'The flat-fee plan: `auto` lanes, fair use, concurrency.' }),
    byokCredentials: t.relation('byokCredentials', {
      description: 'The org\'s own provider credentials, one per provider, shown by their last 4 characters.',
      query: { orderBy: { provider: 'asc' } },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    balance: t.field({
      type: 'Credits',
      description: 'The sum of the org\'s ledger entries.',
      // Summed in SQL as text: the sum of bigints is numeric, and text keeps it exact.
      select: {
        extras: {
          balance: (org) => sql<string>`(select coalesce(sum(amount), 0)::text from ledger_entries where ledger_entries.org_id = ${org.id})`,
        },
      },
      resolve: (org) => BigInt(org.balance),
    }),
    apiKeys: t.relation('apiKeys', { query: { orderBy: { createdAt: 'desc' } } }),
    // A connection, not a list: every metered request adds an entry. Pothos adds the primary key
    // to the cursor ordering, so entries sharing a created_at are each visited once.
    ledgerEntries: t.relatedConnection('ledgerEntries', {
      description: 'Newest first.',
      query: { orderBy: { createdAt: 'desc' } },
    }),
    usageRecords: t.relatedConnection('usageRecords', {
      description: 'Newest first.',
      // The request id breaks ties: one consumer batch shares one created_at.
      query: { orderBy: { createdAt: 'desc', requestId: 'desc' } },
    }),
  }),
});

builder.queryFields((t) => ({
  orgs: t.drizzleField({
    type: [OrgRef],
    authScopes: { platformAdmin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.orgs.findMany(query({ orderBy: { createdAt: 'asc' } })),
  }),
  org: t.drizzleField({
    type: OrgRef,
    nullable: true,
    authScopes: { platformAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      isUuid(args.id) ? ((await ctx.db.query.orgs.findFirst(query({ where: { id: args.id } }))) ?? null) : null,
  }),
}));

const CreateOrgInput = builder.inputType('CreateOrgInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    defaultTier: t.field({ type: TierEnum, description: 'Defaults to resale.' }),
  }),
});

builder.mutationField('createOrg', (t) =>
  t.field({
    type: OrgRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateOrgInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const name = input.name.trim();
      if (!name) throw new ValidationError('name must not be empty', 'name');
      const defaultTier = input.defaultTier ?? 'resale';
      if (!isTier(defaultTier)) throw new ValidationError('unknown tier', 'defaultTier');
      const [org] = await ctx.db.insert(orgs).values({ name, defaultTier }).returning();
      await ctx.publisher.seedOrg(org!.id);
      return org!;
    },
  }),
);

const SetOrgAllowedTiersInput = builder.inputType('SetOrgAllowedTiersInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    tiers: t.field({ type: [TierEnum], description: 'At least one tier; null (or left out) allows all.' }),
  }),
});

builder.mutationField('setOrgAllowedTiers', (t) =>
  t.field({
    type: OrgRef,
    description: 'Restricts the tiers every key of the org may use; requests on another tier get HTTP 403 tier_not_allowed.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetOrgAllowedTiersInput, required: true }) },
    resolve: (_root, { input }, ctx) => setOrgAllowedTiers(ctx, input.orgId, input.tiers ?? null),
  }),
);
