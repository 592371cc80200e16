import { isTier, type Tier } from '@tollgate/shared';
import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { Access } from '../auth/principal.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { apiKeys, byokCredentials, invitations, ledgerEntries, managementTokens, modelMarkups, orgMembers, orgs, usageRecords, type Org } from '../db/schema/index.ts';
import { ConflictError, InUseError, NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { limitChanges, MAX_AMOUNT, optionalAmount, type LimitColumns, type LimitsInput } from './limits.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput, requiredText } from './validate.ts';

/** Customer organisations: created idempotently on their slug, renamed, deleted while unused. */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function slugInput(value: string, field = 'slug'): string {
  const slug = value.trim().toLowerCase();
  if (!SLUG.test(slug)) throw new ValidationError(`${field} must be 1 to 63 lower-case letters, digits and dashes, not starting or ending with a dash`, field);
  return slug;
}

/** A slug made from a name: "Acme Corp." -> "acme-corp". */
export function slugFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return slug || 'org';
}

function tierInput(value: string | null | undefined, field: string): Tier | undefined {
  if (value == null) return undefined;
  if (!isTier(value)) throw new ValidationError(`${field} must be a tier`, field);
  return value;
}

/**
 * What an org is sold and how it is warned, beside its name: ceilings over all its keys and the
 * overdraft (the operator's to set; GraphQL checks that), and the low-balance threshold.
 */
export interface OrgMoneyInput {
  limits?: LimitsInput | null | undefined;
  /** Nanocredits the balance may go below zero; null is 0. */
  overdraft?: bigint | null | undefined;
  /** Crossing below it writes one low_balance alert; null for none. */
  lowBalanceThreshold?: bigint | null | undefined;
}

type OrgMoneyColumns = Partial<LimitColumns & { overdraft: bigint; lowBalanceThreshold: bigint | null }>;

function orgMoneyChanges(input: OrgMoneyInput): OrgMoneyColumns {
  const out: OrgMoneyColumns = limitChanges(input.limits);
  if (input.overdraft !== undefined) out.overdraft = optionalAmount(input.overdraft, 'overdraft') ?? 0n;
  if (input.lowBalanceThreshold !== undefined) {
    const t = input.lowBalanceThreshold;
    if (t !== null && (t < -MAX_AMOUNT || t > MAX_AMOUNT)) throw new ValidationError('lowBalanceThreshold must be within ±9007199.254740991 credits; null for none', 'lowBalanceThreshold');
    out.lowBalanceThreshold = t;
  }
  return out;
}

/** Whether a change reaches the key records (the org's ceilings and overdraft do). */
function touchesKeyRecords(changes: OrgMoneyColumns): boolean {
  return Object.keys(changes).some((k) => k !== 'lowBalanceThreshold');
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export interface CreateOrgInput extends OrgMoneyInput {
  name: string;
  slug?: string | null | undefined;
  defaultTier?: string | null | undefined;
}

/**
 * Creates an org, or returns the one that already has this slug (`created: false`) when its other
 * fields match; a different org under the slug is a conflict. Without a slug, one is made from the name.
 */
export async function createOrg(ctx: ServiceContext, input: CreateOrgInput, creatorUserId: string | null): Promise<{ org: Org; created: boolean }> {
  const name = requiredText(input.name, 'name', 200);
  const slug = input.slug != null ? slugInput(input.slug) : slugFrom(name);
  const defaultTier = tierInput(input.defaultTier, 'defaultTier') ?? 'resale';
  const money = orgMoneyChanges(input);
  const existing = await ctx.db.query.orgs.findFirst({ where: { slug } });
  if (existing) {
    const same = existing.name === name && existing.defaultTier === defaultTier && Object.entries(money).every(([k, v]) => sameValue(existing[k as keyof typeof money], v));
    if (same) return { org: existing, created: false };
    throw new ConflictError(`an org with the slug "${slug}" already exists with other settings; choose another slug or update that org`);
  }
  try {
    const org = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.insert(orgs).values({ name, slug, defaultTier, ...money }).returning();
      // Whoever creates an org owns it (an operator acting for a customer adds members instead).
      if (creatorUserId) await tx.insert(orgMembers).values({ orgId: row!.id, userId: creatorUserId, role: 'owner' });
      publish({ kind: 'balance', orgId: row!.id });
      return row!;
    });
    return { org, created: true };
  } catch (error) {
    if (isUniqueViolation(error)) return createOrg(ctx, input, creatorUserId);
    throw error;
  }
}

export async function findOrg(ctx: ServiceContext, id: string): Promise<Org> {
  const org = await ctx.db.query.orgs.findFirst({ where: { id: idInput(id, 'org') } });
  if (!org) throw new NotFoundError('no org with this id');
  return org;
}

export interface UpdateOrgInput extends OrgMoneyInput {
  id: string;
  name?: string | null | undefined;
  slug?: string | null | undefined;
  defaultTier?: string | null | undefined;
}

export async function updateOrg(ctx: ServiceContext, input: UpdateOrgInput): Promise<Org> {
  const current = await findOrg(ctx, input.id);
  const changes = {
    ...(input.name != null ? { name: requiredText(input.name, 'name', 200) } : {}),
    ...(input.slug != null ? { slug: slugInput(input.slug) } : {}),
    ...(input.defaultTier != null ? { defaultTier: tierInput(input.defaultTier, 'defaultTier')! } : {}),
  };
  const money = orgMoneyChanges(input);
  if (Object.keys(changes).length === 0 && Object.keys(money).length === 0) return current;
  try {
    return await commitChange(ctx, async (tx, publish) => {
      const [org] = await tx.update(orgs).set({ ...changes, ...money }).where(eq(orgs.id, current.id)).returning();
      // Every key record carries the org's default tier, ceilings and overdraft.
      if ((changes.defaultTier && changes.defaultTier !== current.defaultTier) || touchesKeyRecords(money)) publish({ kind: 'org_keys', orgId: current.id });
      return org!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`the slug "${changes.slug}" is taken`);
    throw error;
  }
}

/**
 * Deletes an org that never moved money: one with ledger entries or usage keeps its books, so it
 * is refused (InUseError names what holds it). Its keys, credentials, members and tokens go with it.
 */
export async function deleteOrg(ctx: ServiceContext, id: string): Promise<Org> {
  const org = await findOrg(ctx, id);
  const [ledger] = await ctx.db.select({ n: sql<string>`count(*)::text` }).from(ledgerEntries).where(eq(ledgerEntries.orgId, org.id));
  const [usage] = await ctx.db.select({ n: sql<string>`count(*)::text` }).from(usageRecords).where(eq(usageRecords.orgId, org.id));
  const usedBy = [
    ...(Number(ledger?.n) > 0 ? [`${ledger!.n} ledger entries`] : []),
    ...(Number(usage?.n) > 0 ? [`${usage!.n} usage records`] : []),
  ];
  if (usedBy.length > 0) throw new InUseError(`org "${org.name}" has ${usedBy.join(' and ')}; its books must stay. Disable its keys instead.`, usedBy);
  return commitChange(ctx, async (tx, publish) => {
    const keys = await tx.select({ hash: apiKeys.keyHash, previous: apiKeys.previousKeyHash }).from(apiKeys).where(eq(apiKeys.orgId, org.id));
    const creds = await tx.select({ provider: byokCredentials.provider }).from(byokCredentials).where(eq(byokCredentials.orgId, org.id));
    await tx.delete(apiKeys).where(eq(apiKeys.orgId, org.id));
    await tx.delete(byokCredentials).where(eq(byokCredentials.orgId, org.id));
    await tx.delete(managementTokens).where(eq(managementTokens.orgId, org.id));
    await tx.delete(invitations).where(eq(invitations.orgId, org.id));
    await tx.delete(orgMembers).where(eq(orgMembers.orgId, org.id));
    const markups = await tx.delete(modelMarkups).where(eq(modelMarkups.orgId, org.id)).returning({ id: modelMarkups.id });
    if (markups.length > 0) publish({ kind: 'routes' });
    await tx.delete(orgs).where(eq(orgs.id, org.id));
    for (const k of keys) {
      publish({ kind: 'key_removed', hash: k.hash });
      if (k.previous) publish({ kind: 'key_removed', hash: k.previous });
    }
    for (const c of creds) publish({ kind: 'byok', orgId: org.id, provider: c.provider });
    return org;
  });
}

/** Orgs from before slugs get one at startup, made from the name (and the id when taken). */
export async function assignMissingSlugs(ctx: Pick<ServiceContext, 'db'>): Promise<number> {
  const rows = await ctx.db.select().from(orgs).where(isNull(orgs.slug)).orderBy(asc(orgs.createdAt));
  for (const org of rows) {
    const base = slugFrom(org.name);
    for (const candidate of [base, `${base.slice(0, 54)}-${org.id.slice(0, 8)}`]) {
      try {
        await ctx.db.update(orgs).set({ slug: candidate }).where(eq(orgs.id, org.id));
        break;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
  }
  return rows.length;
}

/** The orgs a caller may list. */
export async function readableOrgIds(access: Access): Promise<string[] | 'all'> {
  return access.readableOrgIds();
}
