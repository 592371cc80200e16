import { spendCounters, type CounterSeed, type KeyRecord, type SpendCounter, type StateStore } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { rowsOf } from './ledger.ts';

/** The largest count a counter holds (see the data plane's limits: counters are JavaScript numbers). */
const COUNTER_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * What the usage records say a spend counter should hold: the cost of the scope's requests since
 * the counter's window began. Member counters sum the keys of that member.
 */
export async function recordedSpend(db: Db, counter: SpendCounter): Promise<bigint> {
  const since = new Date(counter.sinceMs);
  const where =
    counter.scope === 'key'
      ? sql`api_key_id = ${counter.scopeId}`
      : counter.scope === 'org'
        ? sql`org_id = ${counter.scopeId}`
        : sql`api_key_id in (select id from api_keys where member_id = ${counter.scopeId})`;
  const [row] = rowsOf<{ total: string }>(await db.execute(sql`select coalesce(sum(cost), 0)::text as total from usage_records where ${where} and started_at >= ${since}`));
  return BigInt(row?.total ?? '0');
}

/** The seeds of a key record's spend counters, from the usage records. */
export async function spendSeeds(db: Db, record: KeyRecord, nowMs: number): Promise<{ counter: SpendCounter; seed: CounterSeed }[]> {
  const out: { counter: SpendCounter; seed: CounterSeed }[] = [];
  for (const counter of spendCounters(record, nowMs)) {
    const spent = await recordedSpend(db, counter);
    const value = Number(spent > COUNTER_MAX ? COUNTER_MAX : spent < 0n ? 0n : spent);
    out.push({ counter, seed: { counter: counter.counter, value, ttlSeconds: counter.ttlSeconds } });
  }
  return out;
}

/**
 * Writes a key record's spend counters where the store has none (a limit just set, a fresh Redis),
 * before the record is published: a limit set on a key that already spent counts what it spent.
 */
export async function seedSpendCounters(db: Db, store: StateStore, record: KeyRecord, nowMs = Date.now()): Promise<void> {
  const seeds = await spendSeeds(db, record, nowMs);
  if (seeds.length > 0) await store.seedCounters(record.orgId, seeds.map((s) => s.seed), 'nx');
}
