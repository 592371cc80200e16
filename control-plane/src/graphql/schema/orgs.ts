import { isTier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { orgs } from '../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { isUuid, ValidationError } from '../../errors.ts';
import { TierEnum } from './enums.ts';

export const OrgRef = builder.drizzleObject('orgs', {
  name: 'Org',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    defaultTier: t.expose('defaultTier', { type: TierEnum }),
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
