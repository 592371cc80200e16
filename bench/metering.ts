import { orgKeys, USAGE_SHARDS, usageStream } from '@tollgate/shared';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BenchUsageRecord } from './setup.ts';
import { sleep } from './stats.ts';
import type { System } from './systems.ts';

/**
 * After a Tollgate run: was metering exact? Every request answered 200 has exactly one usage record,
 * the ledger's debits equal the sum of the records' costs, and (Redis mode) the balance cached in
 * Redis equals the ledger's with nothing left held. A fast benchmark that loses money is a failure.
 */
export interface MeteringResult {
  ok: boolean;
  problems: string[];
  /** Not failures, but worth a look (e.g. records billed for requests the client never saw answered). */
  notes: string[];
  answered200: number;
  records: number;
  records200: number;
  /** Records of requests not answered 200, by "httpStatus status". */
  otherRecords: Record<string, { count: number; costNanocredits: string }>;
  creditedNanocredits: string;
  balanceNanocredits: string;
  sumCostNanocredits: string;
  redisBalanceNanocredits: string | null;
  redisHeldNanocredits: string | null;
  /** From the end of the load until the usage consumer had written everything. */
  catchUpMs: number;
}

interface GroupInfo {
  pending: number;
  lastDeliveredId: string;
}

async function usageGroups(redis: Redis, stream: string): Promise<GroupInfo[]> {
  const groups = (await redis.xinfo('GROUPS', stream)) as (string | number)[][];
  return groups.map((flat) => {
    const field = (name: string): string | number | undefined => flat[flat.indexOf(name) + 1];
    return { pending: Number(field('pending')), lastDeliveredId: String(field('last-delivered-id')) };
  });
}

async function lastGeneratedId(redis: Redis, stream: string): Promise<string> {
  const info = (await redis.xinfo('STREAM', stream)) as (string | number)[];
  return String(info[info.indexOf('last-generated-id') + 1]);
}

/**
 * True when every consumer group has read up to `lastId` (default: the newest) of a usage stream
 * and acknowledged all it read; without a stream, of every shard's stream that exists.
 */
export async function streamConsumed(redis: Redis, stream?: string, lastId?: string): Promise<boolean> {
  const streams = stream ? [stream] : Array.from({ length: USAGE_SHARDS }, (_, shard) => usageStream(shard));
  for (const s of streams) {
    if (!stream && (await redis.exists(s)) === 0) continue;
    const last = lastId ?? (await lastGeneratedId(redis, s));
    const groups = await usageGroups(redis, s);
    if (!(groups.length > 0 && groups.every((g) => g.pending === 0 && g.lastDeliveredId === last))) return false;
  }
  return true;
}

/** Waits until the usage consumer has written everything, bounded; returns how long it took. */
async function waitForConsumer(system: System, redis: Redis | null, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const tenant = system.tollgate!.tenant;
  let previous: bigint | null = null;
  let lastChange = started;
  let steady = 0;
  while (Date.now() - started < timeoutMs) {
    if (redis) {
      // Exact: nothing is held any more (every request settled, aborted streams included, whose
      // settlement may wait for the tokenizer's first load), and the stream is drained and
      // acknowledged (acknowledged only after the commit).
      const held = await redis.get(orgKeys(tenant.orgId).held);
      steady = (held === null || held === '0') && (await streamConsumed(redis)) ? steady + 1 : 0;
      if (steady >= 2) return Date.now() - started;
      await sleep(250);
    } else {
      // Embedded: no stream to look at from outside; wait until the balance stops moving for 2 s.
      const balance = await tenant.balance();
      if (balance !== previous) lastChange = Date.now();
      steady = balance === previous ? steady + 1 : 0;
      previous = balance;
      if (steady >= 4) return lastChange - started;
      await sleep(500);
    }
  }
  throw new Error(`the usage consumer had not caught up after ${timeoutMs / 1000} s`);
}

interface RecordGroup {
  httpStatus: number;
  status: string;
  count: number;
  cost: bigint;
}

function group(records: BenchUsageRecord[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>();
  for (const r of records) {
    const key = `${r.httpStatus} ${r.status}`;
    const g = groups.get(key) ?? { httpStatus: r.httpStatus, status: r.status, count: 0, cost: 0n };
    g.count++;
    g.cost += r.cost;
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** Postgres is the source of truth in Redis mode; read it directly (fast for many records). */
async function readPostgres(databaseUrl: string, orgName: string): Promise<{ orgId: string; groups: RecordGroup[]; zeroCost200: number; ledger: bigint }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const org = await client.query<{ id: string }>('select id from orgs where name = $1', [orgName]);
    const orgId = org.rows[0]?.id;
    if (!orgId) throw new Error(`no org named ${orgName} in Postgres`);
    const rows = await client.query<{ http_status: number; status: string; n: number; cost: string; zero: number }>(
      `select http_status, status, count(*)::int as n, coalesce(sum(cost), 0)::text as cost, count(*) filter (where cost = 0)::int as zero
         from usage_records where org_id = $1 group by 1, 2`,
      [orgId],
    );
    const ledger = await client.query<{ sum: string }>('select coalesce(sum(amount), 0)::text as sum from ledger_entries where org_id = $1', [orgId]);
    return {
      orgId,
      groups: rows.rows.map((r) => ({ httpStatus: r.http_status, status: r.status, count: r.n, cost: BigInt(r.cost) })),
      zeroCost200: rows.rows.filter((r) => r.http_status === 200).reduce((n, r) => n + r.zero, 0),
      ledger: BigInt(ledger.rows[0]!.sum),
    };
  } finally {
    await client.end();
  }
}

export async function checkMetering(system: System, answered200: number, timeoutMs = 180_000): Promise<MeteringResult> {
  const { tenant, redisUrl, databaseUrl } = system.tollgate!;
  const redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true }) : null;
  try {
    await redis?.connect();
    const catchUpMs = await waitForConsumer(system, redis, timeoutMs);
    const problems: string[] = [];
    const notes: string[] = [];

    let groups: RecordGroup[];
    let zeroCost200: number;
    let redisBalance: bigint | null = null;
    let redisHeld: bigint | null = null;
    if (databaseUrl && redis) {
      const db = await readPostgres(databaseUrl, tenant.orgName);
      groups = db.groups;
      zeroCost200 = db.zeroCost200;
      const ledgerBalance = db.ledger;
      const [balance, held] = await Promise.all([redis.get(orgKeys(db.orgId).balance), redis.get(orgKeys(db.orgId).held)]);
      redisBalance = balance === null ? null : BigInt(balance);
      redisHeld = BigInt(held ?? '0');
      if (redisBalance !== ledgerBalance) problems.push(`Redis balance ${redisBalance} ≠ ledger balance ${ledgerBalance} nanocredits`);
      if (redisHeld !== 0n) problems.push(`${redisHeld} nanocredits still held in Redis after every request ended`);
    } else {
      const records = await tenant.usageRecords();
      groups = group(records);
      zeroCost200 = records.filter((r) => r.httpStatus === 200 && r.cost === 0n).length;
    }
    const balance = await tenant.balance();
    if (redisBalance !== null && redisBalance !== balance) problems.push(`API balance ${balance} ≠ Redis balance ${redisBalance} nanocredits`);

    const records = groups.reduce((n, g) => n + g.count, 0);
    const records200 = groups.filter((g) => g.httpStatus === 200).reduce((n, g) => n + g.count, 0);
    const sumCost = groups.reduce((n, g) => n + g.cost, 0n);
    if (records200 !== answered200) {
      problems.push(`${records200} usage records answered 200, but ${answered200} requests were answered 200`);
    }
    if (tenant.credited - balance !== sumCost) {
      problems.push(`debited ${tenant.credited - balance} nanocredits (credited − balance), but the usage records cost ${sumCost}`);
    }
    if (zeroCost200 > 0) problems.push(`${zeroCost200} requests answered 200 cost nothing`);
    const otherRecords: MeteringResult['otherRecords'] = {};
    for (const g of groups.filter((g) => g.httpStatus !== 200)) {
      otherRecords[`${g.httpStatus} ${g.status}`] = { count: g.count, costNanocredits: g.cost.toString() };
      if (g.cost > 0n) notes.push(`${g.count} requests never answered 200 (${g.httpStatus} ${g.status}) were billed ${g.cost} nanocredits in total`);
    }
    return {
      ok: problems.length === 0,
      problems,
      notes,
      answered200,
      records,
      records200,
      otherRecords,
      creditedNanocredits: tenant.credited.toString(),
      balanceNanocredits: balance.toString(),
      sumCostNanocredits: sumCost.toString(),
      redisBalanceNanocredits: redisBalance?.toString() ?? null,
      redisHeldNanocredits: redisHeld?.toString() ?? null,
      catchUpMs,
    };
  } finally {
    redis?.disconnect();
  }
}
