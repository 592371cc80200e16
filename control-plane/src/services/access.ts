import { and, eq, ne } from 'drizzle-orm';
import { apiKeys, orgs, type ApiKey, type Org } from '../db/schema/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { id as idInput, tierList } from './validate.ts';

/**
 * Who may use what: an org's and a key's tier restrictions, and a key's status. The data plane
 * sees the effect through the key records, which are republished after each change.
 */
export async function setOrgAllowedTiers(ctx: ServiceContext, orgId: string, tiers: readonly string[] | null): Promise<Org> {
  const allowedTiers = tierList(tiers, 'allowedTiers');
  const [org] = await ctx.db
    .update(orgs)
    .set({ allowedTiers })
    .where(eq(orgs.id, idInput(orgId, 'org')))
    .returning();
  if (!org) throw new NotFoundError('no org with this id');
  await ctx.publisher.publishOrgKeys(org.id);
  return org;
}

export async function setApiKeyAllowedTiers(ctx: ServiceContext, keyId: string, tiers: readonly string[] | null): Promise<ApiKey> {
  const allowedTiers = tierList(tiers, 'allowedTiers');
  const [key] = await ctx.db
    .update(apiKeys)
    .set({ allowedTiers })
    .where(eq(apiKeys.id, idInput(keyId, 'API key')))
    .returning();
  if (!key) throw new NotFoundError('no API key with this id');
  await ctx.publisher.publishKey(key.id);
  return key;
}

/** Disables or re-enables a key; a revoked key stays revoked. */
export async function setApiKeyStatus(ctx: ServiceContext, keyId: string, status: 'active' | 'disabled'): Promise<ApiKey> {
  const id = idInput(keyId, 'API key');
  const [key] = await ctx.db
    .update(apiKeys)
    .set({ status })
    .where(and(eq(apiKeys.id, id), ne(apiKeys.status, 'revoked')))
    .returning();
  if (!key) {
    const existing = await ctx.db.query.apiKeys.findFirst({ columns: { id: true }, where: { id } });
    if (!existing) throw new NotFoundError('no API key with this id');
    throw new ConflictError('the key is revoked, and a revoked key stays revoked; create a new key');
  }
  await ctx.publisher.publishKey(key.id);
  return key;
}
