import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { ledgerEntries, orgBalances, type LedgerEntry } from '../db/schema/index.ts';
import { formatCredits } from '@tollgate/shared';
import { ConfirmationRequiredError, ConflictError, isUuid, NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { enqueuePublications } from './outbox.ts';

export interface CreditRequest {
  orgId: string;
  amount: bigint;
  reason: string;
  idempotencyKey: string;
  createdBy: string | null;
  /** A debit larger than the balance is refused with ConfirmationRequiredError unless confirmed. */
  confirm?: boolean | null | undefined;
}

/** Prefix the usage consumer uses for its debits; refused for manual credits so they cannot collide. */
export const USAGE_KEY_PREFIX = 'usage:';

/**
 * Appends a manual adjustment. Idempotent on the key: a retry with the same org and amount returns
 * the entry already written (`created: false`); the same key for anything else is a conflict.
 */
export async function creditOrg(db: Db, request: CreditRequest): Promise<{ entry: LedgerEntry; created: boolean }> {
  const reason = request.reason.trim();
  const idempotencyKey = request.idempotencyKey.trim();
  if (request.amount === 0n) throw new ValidationError('amount must not be zero', 'amount');
  if (!reason) throw new ValidationError('reason must not be empty', 'reason');
  if (!idempotencyKey || idempotencyKey.length > 200) {
    throw new ValidationError('idempotencyKey must be 1 to 200 characters', 'idempotencyKey');
  }
  if (idempotencyKey.startsWith(USAGE_KEY_PREFIX)) {
    throw new ValidationError(`idempotencyKey must not start with "${USAGE_KEY_PREFIX}"`, 'idempotencyKey');
  }
  const org = isUuid(request.orgId) ? await db.query.orgs.findFirst({ where: { id: request.orgId } }) : undefined;
  if (!org) throw new NotFoundError('no org with this id');
  const retried = await db.query.ledgerEntries.findFirst({ where: { idempotencyKey } });
  if (!retried && request.amount < 0n && !request.confirm) {
    const balance = await ledgerBalance(db, org.id);
    if (-request.amount > balance) {
      throw new ConfirmationRequiredError([`the debit of ${formatCredits(-request.amount)} credits is larger than the balance of ${formatCredits(balance)}: the org would owe credits`]);
    }
  }

  // ON CONFLICT DO NOTHING makes concurrent retries safe: exactly one insert wins.
  const [inserted] = await db
    .insert(ledgerEntries)
    .values({ orgId: org.id, amount: request.amount, kind: 'adjustment', reason, idempotencyKey, createdBy: request.createdBy })
    .onConflictDoNothing({ target: ledgerEntries.idempotencyKey })
    .returning();
  if (inserted) return { entry: inserted, created: true };

  const existing = await db.query.ledgerEntries.findFirst({ where: { idempotencyKey } });
  if (existing && existing.orgId === org.id && existing.amount === request.amount && existing.kind === 'adjustment') {
    return { entry: existing, created: false };
  }
  throw new ConflictError('this idempotencyKey was already used for a different credit');
}

/**
 * An org's balance: its maintained row (a trigger adds every ledger entry to it in the entry's own
 * transaction), 0 for an org without entries. One row, however long the ledger.
 */
export async function ledgerBalance(db: Db, orgId: string): Promise<bigint> {
  const [row] = await db.select({ balance: orgBalances.balance }).from(orgBalances).where(eq(orgBalances.orgId, orgId));
  return row?.balance ?? 0n;
}

/** The sum of an org's ledger entries, which the balance row must equal (reconcile checks it). */
export async function ledgerSum(db: Db, orgId: string): Promise<bigint> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amount}), 0)::text` })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.orgId, orgId));
  return BigInt(row?.total ?? '0');
}

/** `execute` returns the driver's result object; both pg and PGlite put rows under `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * A manual credit or debit and the cached balance's update, as one unit: the entry and its
 * publication commit together. A retry publishes again, which repairs a cache a first attempt missed
 * (the store applies each entry once).
 */
export async function creditOrgAndPublish(ctx: ServiceContext, request: CreditRequest): Promise<LedgerEntry> {
  const { entry } = await ctx.db.transaction(async (tx) => {
    const result = await creditOrg(tx, request);
    await enqueuePublications(tx, [{ kind: 'credit', entryId: result.entry.id }]);
    return result;
  });
  await ctx.outbox.deliver();
  return entry;
}
