import { eq } from 'drizzle-orm';
import { orgs, type Org } from '../db/schema/index.ts';
import { NotFoundError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput, tierList } from './validate.ts';

/**
 * Which tiers an org may use. The data plane sees the effect through its keys' records, which are
 * republished (through the outbox) with the change. Key-level access lives in api-keys.ts.
 */
export async function setOrgAllowedTiers(ctx: ServiceContext, orgId: string, tiers: readonly string[] | null): Promise<Org> {
  const allowedTiers = tierList(tiers, 'allowedTiers');
  const org = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .update(orgs)
      .set({ allowedTiers })
      .where(eq(orgs.id, idInput(orgId, 'org')))
      .returning();
    if (row) publish({ kind: 'org_keys', orgId: row.id });
    return row;
  });
  if (!org) throw new NotFoundError('no org with this id');
  return org;
}
