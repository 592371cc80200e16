import type { Permission } from '../auth/roles.ts';
import { isUuid } from '../errors.ts';
import type { OrgScope } from './builder.ts';
import type { Context } from './context.ts';

/**
 * `authScopes` for mutations that name a record rather than its org: the record's org is looked up
 * here (null for an unknown id, which only an operator passes, to then get NotFoundError), so a
 * member of another org is refused the same way whether or not the id exists.
 */
type OrgLookup = (ctx: Context, id: string) => Promise<string | null | undefined>;

const lookups = {
  org: async (_ctx, id) => id,
  apiKey: async (ctx, id) => (await ctx.db.query.apiKeys.findFirst({ columns: { orgId: true }, where: { id } }))?.orgId,
  member: async (ctx, id) => (await ctx.db.query.orgMembers.findFirst({ columns: { orgId: true }, where: { id } }))?.orgId,
  invitation: async (ctx, id) => (await ctx.db.query.invitations.findFirst({ columns: { orgId: true }, where: { id } }))?.orgId,
} satisfies Record<string, OrgLookup>;

export async function orgOf(ctx: Context, kind: keyof typeof lookups, id: string | null | undefined): Promise<string | null> {
  if (!id || !isUuid(id)) return null;
  return (await lookups[kind](ctx, id)) ?? null;
}

/** authScopes for `input.<field>` naming a record of `kind`, needing `can` in its org. */
export function inputScope(kind: keyof typeof lookups, can: Permission, field = 'id') {
  return async (_root: unknown, args: { input: Record<string, unknown> }, ctx: Context): Promise<{ org: OrgScope }> => ({
    org: { id: await orgOf(ctx, kind, args.input[field] as string | null | undefined), can },
  });
}
