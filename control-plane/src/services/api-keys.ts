import { generateSecret, windowStart } from '@tollgate/shared';
import { and, eq, gte, ne, sql } from 'drizzle-orm';
import { apiKeys, usageRecords, type ApiKey } from '../db/schema/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { rowsOf } from './ledger.ts';
import { limitChanges, metadataInput, type LimitsInput } from './limits.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput, requiredText, tierList } from './validate.ts';

/**
 * Customer API keys (`tg_...`): the secret is returned once, only its SHA-256 is stored. Every
 * change republishes the key record through the outbox: status, expiry, tiers, limits and
 * metadata all reach the data plane in the record.
 *
 * Ownership: a key created by a member of its org belongs to that member (its spend counts against
 * their monthly allowance), unless it is created as a service key, which belongs to the org; the
 * GraphQL API lets only those who manage members (owners, admins, operators) create one, so nobody
 * can step around their own allowance. Keys created by someone who is not a member (an operator,
 * `tollgate apply`) are org keys.
 */
const MAX_GRACE_SECONDS = 30 * 24 * 3600;

type MetadataEntries = readonly { key: string; value: string }[];

export interface CreateApiKeyInput {
  orgId: string;
  name: string;
  expiresAt?: Date | null | undefined;
  allowedTiers?: readonly string[] | null | undefined;
  limits?: LimitsInput | null | undefined;
  metadata?: MetadataEntries | null | undefined;
  /** An org key that belongs to no member, even when its creator is one. */
  serviceKey?: boolean | null | undefined;
}

function futureDate(value: Date, field: string): Date {
  if (value.getTime() <= Date.now()) throw new ValidationError(`${field} must be in the future`, field);
  return value;
}

export async function createApiKey(ctx: ServiceContext, input: CreateApiKeyInput, createdBy: string | null): Promise<{ apiKey: ApiKey; secret: string }> {
  const name = requiredText(input.name, 'name', 100);
  const expiresAt = input.expiresAt ? futureDate(input.expiresAt, 'expiresAt') : null;
  const allowedTiers = tierList(input.allowedTiers, 'allowedTiers');
  const limits = limitChanges(input.limits);
  const metadata = metadataInput(input.metadata ?? null);
  const org = await ctx.db.query.orgs.findFirst({ columns: { id: true }, where: { id: idInput(input.orgId, 'org') } });
  if (!org) throw new NotFoundError('no org with this id');
  const member =
    createdBy && !input.serviceKey ? await ctx.db.query.orgMembers.findFirst({ columns: { id: true }, where: { orgId: org.id, userId: createdBy } }) : undefined;
  const generated = generateSecret('api_key');
  const apiKey = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        orgId: org.id, name, keyHash: generated.hash, prefix: generated.prefix, last4: generated.last4, expiresAt, allowedTiers, createdBy,
        ...limits, metadata, memberId: member?.id ?? null,
      })
      .returning();
    publish({ kind: 'key', keyId: row!.id });
    return row!;
  });
  return { apiKey, secret: generated.secret };
}

export async function findApiKey(ctx: ServiceContext, id: string): Promise<ApiKey> {
  const key = await ctx.db.query.apiKeys.findFirst({ where: { id: idInput(id, 'API key') } });
  if (!key) throw new NotFoundError('no API key with this id');
  return key;
}

export interface UpdateApiKeyInput {
  id: string;
  name?: string | null | undefined;
  /** null: never expires; absent: unchanged. */
  expiresAt?: Date | null | undefined;
  /** null: all the org allows; absent: unchanged. */
  allowedTiers?: readonly string[] | null | undefined;
  /** Each limit left out is unchanged, null clears it; null clears them all. */
  limits?: LimitsInput | null | undefined;
  /** Replaces the labels; null (or none) clears them. */
  metadata?: MetadataEntries | null | undefined;
}

export async function updateApiKey(ctx: ServiceContext, input: UpdateApiKeyInput): Promise<ApiKey> {
  const current = await findApiKey(ctx, input.id);
  const changes = {
    ...(input.name != null ? { name: requiredText(input.name, 'name', 100) } : {}),
    ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt === null ? null : futureDate(input.expiresAt, 'expiresAt') } : {}),
    ...(input.allowedTiers !== undefined ? { allowedTiers: tierList(input.allowedTiers, 'allowedTiers') } : {}),
    ...limitChanges(input.limits),
    ...(input.metadata !== undefined ? { metadata: metadataInput(input.metadata) } : {}),
  };
  if (Object.keys(changes).length === 0) return current;
  return commitChange(ctx, async (tx, publish) => {
    const [key] = await tx.update(apiKeys).set(changes).where(eq(apiKeys.id, current.id)).returning();
    publish({ kind: 'key', keyId: current.id });
    return key!;
  });
}

/** Disables or re-enables a key; a revoked key stays revoked. */
export async function setApiKeyStatus(ctx: ServiceContext, keyId: string, status: 'active' | 'disabled' | 'revoked'): Promise<ApiKey> {
  const id = idInput(keyId, 'API key');
  const key = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ status, ...(status === 'revoked' ? { revokedAt: new Date() } : {}) })
      .where(and(eq(apiKeys.id, id), ne(apiKeys.status, 'revoked')))
      .returning();
    if (row) publish({ kind: 'key', keyId: row.id });
    return row;
  });
  if (key) return key;
  const existing = await ctx.db.query.apiKeys.findFirst({ where: { id } });
  if (!existing) throw new NotFoundError('no API key with this id');
  // Revoking twice is harmless: the first revocation time is kept.
  if (status === 'revoked') return existing;
  throw new ConflictError('the key is revoked, and a revoked key stays revoked; create a new key');
}

/**
 * Gives the key a new secret. With a grace period the old secret keeps working until it ends (its
 * record expires then); without one it stops at once. The key's id, name, settings and usage stay.
 */
export async function rotateApiKey(ctx: ServiceContext, input: { id: string; gracePeriodSeconds?: number | null | undefined }): Promise<{ apiKey: ApiKey; secret: string }> {
  const current = await findApiKey(ctx, input.id);
  if (current.status === 'revoked') throw new ConflictError('a revoked key cannot be rotated; create a new key');
  const grace = input.gracePeriodSeconds ?? 0;
  if (!Number.isSafeInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
    throw new ValidationError(`gracePeriodSeconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`, 'gracePeriodSeconds');
  }
  const generated = generateSecret('api_key');
  const apiKey = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .update(apiKeys)
      .set({
        keyHash: generated.hash,
        prefix: generated.prefix,
        last4: generated.last4,
        previousKeyHash: grace > 0 ? current.keyHash : null,
        previousExpiresAt: grace > 0 ? new Date(Date.now() + grace * 1000) : null,
      })
      .where(and(eq(apiKeys.id, current.id), eq(apiKeys.keyHash, current.keyHash)))
      .returning();
    if (!row) throw new ConflictError('the key was rotated meanwhile; try again');
    // A grace period from an earlier rotation ends now: only one old secret is ever honoured.
    if (current.previousKeyHash) publish({ kind: 'key_removed', hash: current.previousKeyHash });
    if (grace === 0) publish({ kind: 'key_removed', hash: current.keyHash });
    publish({ kind: 'key', keyId: row.id });
    return row;
  });
  return { apiKey, secret: generated.secret };
}

/** Deletes a key: its secrets stop at once. Its usage records keep its id. */
export async function deleteApiKey(ctx: ServiceContext, id: string): Promise<ApiKey> {
  const key = await findApiKey(ctx, id);
  return commitChange(ctx, async (tx, publish) => {
    await tx.delete(apiKeys).where(eq(apiKeys.id, key.id));
    publish({ kind: 'key_removed', hash: key.keyHash });
    if (key.previousKeyHash) publish({ kind: 'key_removed', hash: key.previousKeyHash });
    return key;
  });
}

export interface KeyUsageSummary {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cost: bigint;
  lastUsedAt: Date | null;
}

/** A key's usage since an instant (all time when null), from its usage records. */
export async function apiKeyUsage(ctx: Pick<ServiceContext, 'db'>, keyId: string, since: Date | null): Promise<KeyUsageSummary> {
  const [row] = await ctx.db
    .select({
      requests: sql<string>`count(*)::text`,
      input: sql<string>`coalesce(sum(${usageRecords.inputTokens} + ${usageRecords.cachedInputTokens} + ${usageRecords.cacheWriteTokens}), 0)::text`,
      output: sql<string>`coalesce(sum(${usageRecords.outputTokens} + ${usageRecords.reasoningTokens}), 0)::text`,
      cost: sql<string>`coalesce(sum(${usageRecords.cost}), 0)::text`,
      last: sql<string | null>`max(${usageRecords.createdAt})::text`,
    })
    .from(usageRecords)
    .where(and(eq(usageRecords.apiKeyId, keyId), since ? gte(usageRecords.createdAt, since) : undefined));
  return {
    requests: Number(row?.requests ?? 0),
    inputTokens: Number(row?.input ?? 0),
    outputTokens: Number(row?.output ?? 0),
    cost: BigInt(row?.cost ?? '0'),
    lastUsedAt: row?.last ? new Date(row.last) : null,
  };
}

export interface KeySpend {
  lifetime: bigint;
  day: bigint;
  week: bigint;
  month: bigint;
}

/**
 * What a key spent over its lifetime and in the current calendar day, ISO week and month (UTC),
 * from its usage records by when each request started: the windows of its credit limits.
 */
export async function apiKeySpend(ctx: Pick<ServiceContext, 'db'>, keyId: string, nowMs = Date.now()): Promise<KeySpend> {
  const since = (window: 'day' | 'week' | 'month') => new Date(windowStart(window, nowMs));
  const [row] = rowsOf<{ lifetime: string; day: string; week: string; month: string }>(
    await ctx.db.execute(sql`
      select coalesce(sum(cost), 0)::text as lifetime,
             coalesce(sum(cost) filter (where started_at >= ${since('day')}), 0)::text as day,
             coalesce(sum(cost) filter (where started_at >= ${since('week')}), 0)::text as week,
             coalesce(sum(cost) filter (where started_at >= ${since('month')}), 0)::text as month
      from usage_records where api_key_id = ${keyId}`),
  );
  return { lifetime: BigInt(row?.lifetime ?? '0'), day: BigInt(row?.day ?? '0'), week: BigInt(row?.week ?? '0'), month: BigInt(row?.month ?? '0') };
}
