import { silentLogger, type IncludedDebit, type Logger, type StateStore } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { sqlState } from '../db/errors.ts';
import { ledgerBalance, rowsOf } from './ledger.ts';

/**
 * The state store's balance is a cache of the ledger. Two things can leave it behind:
 * - it was lost (Redis restarted empty): it is seeded again from the ledger;
 * - a usage event was settled while it held no balance (`storeDebited` false): the event's debit is
 *   in the ledger once consumed, and must reach the store exactly once.
 * Both happen under one advisory lock per org, so a seed and a consumer's debit never interleave:
 * the seed reads the balance and the undebited usage records in one snapshot, and marks those
 * records debited (the balance it sets includes them); records consumed after its snapshot are
 * debited by the consumer or the sweep once the balance is there.
 */

/** Undebited records one seed or sweep step handles; more are taken in further steps. */
const STEP = 1_000;
const RETRIES = 10;

async function lockOrg(db: Db, orgId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${`tg-balance:${orgId}`}))`);
}

async function undebited(db: Db, orgId: string, limit: number, requestIds?: readonly string[]): Promise<IncludedDebit[]> {
  const rows = rowsOf<{ request_id: string; cost: string }>(
    await db.execute(
      requestIds && requestIds.length > 0
        ? sql`select request_id, cost::text as cost from usage_records where org_id = ${orgId} and store_debited = false and request_id in (${idList(requestIds)}) limit ${limit}`
        : sql`select request_id, cost::text as cost from usage_records where org_id = ${orgId} and store_debited = false limit ${limit}`,
    ),
  );
  return rows.map((r) => ({ requestId: r.request_id, cost: BigInt(r.cost) }));
}

const idList = (ids: readonly string[]) => sql.join(ids.map((id) => sql`${id}`), sql`, `);

async function markDebited(db: Db, requestIds: readonly string[]): Promise<void> {
  if (requestIds.length === 0) return;
  await db.execute(sql`update usage_records set store_debited = true where request_id in (${idList(requestIds)})`);
}

/** Retries a transaction that lost a serialization race (the snapshot saw a row another changed). */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (sqlState(error) !== '40001' || attempt >= RETRIES) throw error;
    }
  }
}

/**
 * Seeds the org's balance in the store from the ledger when the store holds none. Returns true
 * when this call seeded it. With a balance already there, it still applies the ledger's undebited
 * records to it (once each), so it is always safe to call.
 */
export async function seedStoreBalance(db: Db, store: StateStore, orgId: string): Promise<boolean> {
  let seeded = false;
  for (;;) {
    const { done, seededNow } = await retrying(() =>
      db.transaction(
        async (tx) => {
          await lockOrg(tx, orgId);
          const balance = await ledgerBalance(tx, orgId);
          const debits = await undebited(tx, orgId, STEP);
          const seededNow = await store.seedBalance(orgId, balance, debits);
          await markDebited(tx, debits.map((d) => d.requestId));
          return { done: debits.length < STEP, seededNow };
        },
        { isolationLevel: 'repeatable read' },
      ),
    );
    seeded ||= seededNow;
    if (done) return seeded;
  }
}

/**
 * Applies undebited usage records of the org to the store's balance, once each (the consumer calls
 * this for events settled without a balance, the sweep for any left). Records stay undebited when
 * the store holds no balance: the seed covers them then.
 */
export async function applyUndebited(db: Db, store: StateStore, orgId: string, requestIds?: readonly string[]): Promise<number> {
  let applied = 0;
  for (;;) {
    const { count, more } = await db.transaction(async (tx) => {
      await lockOrg(tx, orgId);
      const debits = await undebited(tx, orgId, STEP, requestIds);
      const done: string[] = [];
      for (const debit of debits) {
        const outcome = await store.debitOnce(orgId, debit.requestId, debit.cost);
        if (outcome === 'no_balance') break;
        done.push(debit.requestId);
      }
      await markDebited(tx, done);
      return { count: done.length, more: debits.length === STEP && done.length === debits.length };
    });
    applied += count;
    if (!more) return applied;
  }
}

/** Orgs with usage records whose debit has not reached the store. */
export async function orgsWithUndebited(db: Db, limit = 1_000): Promise<string[]> {
  const rows = rowsOf<{ org_id: string }>(await db.execute(sql`select distinct org_id from usage_records where store_debited = false limit ${limit}`));
  return rows.map((r) => r.org_id);
}

/**
 * Safety net, run periodically: every undebited record whose org has a balance in the store gets
 * its debit, and every org with undebited records but no balance is seeded.
 */
export async function sweepUndebited(db: Db, store: StateStore, logger: Logger = silentLogger): Promise<number> {
  let applied = 0;
  for (const orgId of await orgsWithUndebited(db)) {
    const count = await applyUndebited(db, store, orgId);
    applied += count;
    if ((await store.getBalance(orgId)) === null) await seedStoreBalance(db, store, orgId);
  }
  if (applied > 0) logger.info('applied usage debits settled while the store held no balance', { applied });
  return applied;
}
