import { decodeUsageEvent, spendCounters, type StateStore, type UsageEvent } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { seedStoreBalance } from './balances.ts';
import { rowsOf } from './ledger.ts';
import { keyRecord } from './publisher.ts';
import { spendSeeds } from './spend.ts';

/**
 * `tollgate reconcile`: compares, per org and key, the state store's balances and spend counters
 * with the ledger minus the usage events not consumed yet, and reports drift. The store's balance
 * should be
 *
 *   ledger − (events in the stream, debited in the store, not in the ledger yet)
 *          + (usage records whose debit has not reached the store yet)
 *          − (dead-lettered events debited in the store, never in the ledger)
 *
 * and each org's balance row should equal its ledger's sum. `repair` rebuilds what drifted from
 * the ledger. Under live traffic the store and the database are read at slightly different
 * moments: an org is reported only when it drifts by the same amount in successive readings.
 */

export interface OrgReconciliation {
  orgId: string;
  /** Sum of the org's ledger entries. */
  ledger: bigint;
  /** The maintained balance row (should equal `ledger`). */
  balanceRow: bigint;
  /** The store's balance; null when it holds none. */
  store: bigint | null;
  held: bigint;
  /** Debited in the store, not consumed into the ledger yet. */
  unconsumed: bigint;
  /** In the ledger, not debited in the store yet. */
  undebited: bigint;
  /** Debited in the store, kept in the dead-letter table (not in the ledger). */
  deadLettered: bigint;
  expectedStore: bigint;
  /** store − expectedStore (the whole expected balance when the store holds none). */
  drift: bigint;
  /** balanceRow − ledger. */
  rowDrift: bigint;
}

export interface CounterReconciliation {
  orgId: string;
  /** A key the counter limits (for an org's or member's counter, the first of their keys). */
  keyId: string;
  counter: string;
  expected: number;
  actual: number;
  /** The counter's window expiry, kept when a repair rewrites it (null: a lifetime counter). */
  ttlSeconds: number | null;
}

export interface ReconcileReport {
  orgsChecked: number;
  countersChecked: number;
  /** Orgs whose store balance or balance row drifts. */
  orgs: OrgReconciliation[];
  counters: CounterReconciliation[];
  unconsumedEvents: number;
  deadLetters: { count: number; cost: bigint };
  repaired: boolean;
}

/** Events read from the stream for one reconciliation. */
const MAX_UNCONSUMED = 1_000_000;
const READINGS = 3;
const SETTLE_MS = 250;

interface Pending {
  event: UsageEvent;
  storeDebited: boolean;
}

interface Reading {
  orgs: Map<string, OrgReconciliation>;
  counters: CounterReconciliation[];
  countersChecked: number;
  unconsumedEvents: number;
  deadLetters: { count: number; cost: bigint };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const idList = (ids: readonly string[]) => sql.join(ids.map((id) => sql`${id}`), sql`, `);

/** Stream events not in the usage records yet (a pending entry may already be written). */
async function pendingEvents(db: Db, store: StateStore): Promise<Pending[]> {
  const pending: Pending[] = [];
  for (const delivery of await store.unconsumedUsage(MAX_UNCONSUMED)) {
    try {
      pending.push({ event: decodeUsageEvent(delivery.payload), storeDebited: delivery.storeDebited });
    } catch {
      // Undecodable: it will go to the dead-letter table when consumed.
    }
  }
  const written = new Set<string>();
  for (let i = 0; i < pending.length; i += 1_000) {
    const ids = pending.slice(i, i + 1_000).map((p) => p.event.requestId);
    const rows = rowsOf<{ request_id: string }>(await db.execute(sql`select request_id from usage_records where request_id in (${idList(ids)})`));
    for (const row of rows) written.add(row.request_id);
  }
  return pending.filter((p) => !written.has(p.event.requestId));
}

async function sums(db: Db, query: ReturnType<typeof sql>): Promise<Map<string, bigint>> {
  return new Map(rowsOf<{ org_id: string; total: string }>(await db.execute(query)).map((r) => [r.org_id, BigInt(r.total)]));
}

async function read(db: Db, store: StateStore, nowMs: number): Promise<Reading> {
  // The stream first: an event consumed after this is in the ledger read below, and counted once.
  const pending = await pendingEvents(db, store);
  const orgIds = rowsOf<{ id: string }>(await db.execute(sql`select id from orgs order by id`)).map((r) => r.id);
  const ledger = await sums(db, sql`select org_id, sum(amount)::text as total from ledger_entries group by org_id`);
  const rows = await sums(db, sql`select org_id, balance::text as total from org_balances`);
  const undebited = await sums(db, sql`select org_id, sum(cost)::text as total from usage_records where store_debited = false group by org_id`);
  const dead = await sums(
    db,
    sql`select org_id, sum(cost)::text as total from usage_dead_letters where resolved_at is null and store_debited = 'true' and org_id is not null and cost is not null group by org_id`,
  );
  const [deadTotals] = rowsOf<{ count: string; cost: string }>(
    await db.execute(sql`select count(*)::text as count, coalesce(sum(cost), 0)::text as cost from usage_dead_letters where resolved_at is null`),
  );
  const unconsumed = new Map<string, bigint>();
  for (const p of pending) {
    if (p.storeDebited) unconsumed.set(p.event.orgId, (unconsumed.get(p.event.orgId) ?? 0n) + BigInt(p.event.cost));
  }

  const orgs = new Map<string, OrgReconciliation>();
  for (const orgId of orgIds) {
    const view = await store.getBalance(orgId);
    const l = ledger.get(orgId) ?? 0n;
    const expectedStore = l - (unconsumed.get(orgId) ?? 0n) + (undebited.get(orgId) ?? 0n) - (dead.get(orgId) ?? 0n);
    orgs.set(orgId, {
      orgId,
      ledger: l,
      balanceRow: rows.get(orgId) ?? 0n,
      store: view?.balance ?? null,
      held: view?.held ?? 0n,
      unconsumed: unconsumed.get(orgId) ?? 0n,
      undebited: undebited.get(orgId) ?? 0n,
      deadLettered: dead.get(orgId) ?? 0n,
      expectedStore,
      drift: view === null ? -expectedStore : view.balance - expectedStore,
      rowDrift: (rows.get(orgId) ?? 0n) - l,
    });
  }

  // Spend counters of every key with a credit limit: usage records plus what the stream holds. An
  // org's and a member's counters are shared by their keys: each is checked once.
  const counters: CounterReconciliation[] = [];
  let countersChecked = 0;
  const keys = await db.query.apiKeys.findMany({ with: { org: true, member: true }, orderBy: { id: 'asc' } });
  const memberOfKey = new Map(keys.map((k) => [k.id, k.memberId]));
  const checked = new Set<string>();
  for (const key of keys) {
    const record = keyRecord(key, key.org, key.member);
    const wanted = spendCounters(record, nowMs).filter((c) => !checked.has(`${record.orgId}:${c.counter}`));
    if (wanted.length === 0) continue;
    const seeds = (await spendSeeds(db, record, nowMs)).filter((s) => wanted.some((c) => c.counter === s.counter.counter));
    const actual = await store.getCounters(record.orgId, seeds.map((s) => s.seed.counter));
    for (const { counter, seed } of seeds) {
      checked.add(`${record.orgId}:${counter.counter}`);
      let expected = seed.value;
      for (const p of pending) {
        if (!p.storeDebited || p.event.startedAt < counter.sinceMs) continue;
        const inScope =
          counter.scope === 'key' ? p.event.keyId === counter.scopeId : counter.scope === 'org' ? p.event.orgId === counter.scopeId : memberOfKey.get(p.event.keyId) === counter.scopeId;
        if (inScope) expected += Number(p.event.cost);
      }
      countersChecked++;
      const value = actual[seed.counter] ?? 0;
      if (value !== expected) counters.push({ orgId: record.orgId, keyId: record.id, counter: seed.counter, expected, actual: value, ttlSeconds: seed.ttlSeconds });
    }
  }
  return {
    orgs,
    counters,
    countersChecked,
    unconsumedEvents: pending.length,
    deadLetters: { count: Number(deadTotals?.count ?? 0), cost: BigInt(deadTotals?.cost ?? '0') },
  };
}

const drifts = (o: OrgReconciliation): boolean => o.drift !== 0n || o.rowDrift !== 0n;

/** Compares the store with the ledger; with `repair`, rebuilds what drifted from the ledger. */
export async function reconcile(db: Db, store: StateStore, options: { repair?: boolean; nowMs?: number } = {}): Promise<ReconcileReport> {
  const nowMs = options.nowMs ?? Date.now();
  let reading = await read(db, store, nowMs);
  let drifted = [...reading.orgs.values()].filter(drifts);
  let counters = reading.counters;
  // Drift seen once may be traffic between two reads: keep what persists, unchanged, across readings.
  for (let i = 1; i < READINGS && (drifted.length > 0 || counters.length > 0); i++) {
    await sleep(SETTLE_MS);
    const next = await read(db, store, nowMs);
    drifted = drifted.filter((o) => {
      const again = next.orgs.get(o.orgId);
      return again !== undefined && again.drift === o.drift && again.rowDrift === o.rowDrift;
    });
    counters = counters.filter((c) => next.counters.some((n) => n.orgId === c.orgId && n.counter === c.counter && n.expected === c.expected && n.actual === c.actual));
    reading = next;
  }
  if (options.repair) {
    for (const org of drifted) {
      if (org.rowDrift !== 0n) await db.execute(sql`update org_balances set balance = balance - ${org.rowDrift.toString()}::bigint, updated_at = now() where org_id = ${org.orgId}`);
      if (org.store === null) await seedStoreBalance(db, store, org.orgId);
      else if (org.drift !== 0n) await store.adjustBalance(org.orgId, -org.drift);
    }
    for (const c of counters) await store.seedCounters(c.orgId, [{ counter: c.counter, value: c.expected, ttlSeconds: c.ttlSeconds }], 'set');
  }
  return {
    orgsChecked: reading.orgs.size,
    countersChecked: reading.countersChecked,
    orgs: drifted,
    counters,
    unconsumedEvents: reading.unconsumedEvents,
    deadLetters: reading.deadLetters,
    repaired: options.repair === true,
  };
}

/** Ids of the rows of an org that `repair` would bring in: used by tests and the CLI's summary. */
export { idList as reconcileIdList };
