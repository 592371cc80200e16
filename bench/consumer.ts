import { Redis } from 'ioredis';
import pg from 'pg';
import { orgKeys, USAGE_SHARDS, usageStream } from '@tollgate/shared';
import { streamConsumed } from './metering.ts';
import type { CpuSource } from './proc.ts';
import { sleep } from './stats.ts';

/**
 * The control plane's usage consumer on its own: usage events per second written to Postgres.
 * The events are copies of one the data plane really wrote (captured from the stream as it was
 * appended), each with a new request id, so they are well-formed in whatever format the planes
 * speak; they are appended in one burst, and the clock stops when the consumer has acknowledged
 * the last one (it acknowledges only after its transaction commits).
 */
export interface ConsumerOptions {
  redisUrl: string;
  databaseUrl: string;
  /** The data plane, and a customer key, for the one real request whose event is copied. */
  origin: string;
  apiKey: string;
  events: number;
  /** The control plane, Postgres and Redis: their CPU time per event carries across machines. */
  cpu: CpuSource[];
}

export interface ConsumerResult {
  events: number;
  appendMs: number;
  totalMs: number;
  eventsPerSecond: number;
  /** CPU time per event, by process, from the first append until the last acknowledgement. */
  cpuPerEventUs: Record<string, number>;
  recorded: number;
  ok: boolean;
  problems: string[];
}

const APPEND_BATCH = 1000;

/** Sends one real request and returns the usage event the data plane appended for it. */
async function captureEvent(redisUrl: string, origin: string, apiKey: string): Promise<string[]> {
  const tap = new Redis(redisUrl);
  try {
    // XREAD from "$" is woken by the next XADD before any other command runs, so the consumer's
    // XDEL (after its commit) cannot remove the entry first.
    const streams = Array.from({ length: USAGE_SHARDS }, (_, shard) => usageStream(shard));
    const read = tap.xread('BLOCK', 15_000, 'STREAMS', ...streams, ...streams.map(() => '$'));
    await sleep(200);
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'One event to copy.' }] }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`the request to capture a usage event was answered ${response.status}`);
    const reply = await read;
    const fields = reply?.[0]?.[1]?.[0]?.[1];
    if (!fields) throw new Error('no usage event appeared on the stream within 15 s');
    return fields;
  } finally {
    tap.disconnect();
  }
}

export async function measureConsumer(options: ConsumerOptions): Promise<ConsumerResult> {
  const template = await captureEvent(options.redisUrl, options.origin, options.apiKey);
  const payloadIndex = template.findIndex((value, i) => i % 2 === 1 && value.trimStart().startsWith('{'));
  const event = JSON.parse(template[payloadIndex]!) as { requestId: string; orgId: string; cost: string };
  // The org's shard stream: where the data plane appends its events.
  const stream = orgKeys(event.orgId).stream;
  const prefix = `bench-consumer-${Date.now()}-`;
  const redis = new Redis(options.redisUrl);
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    // Start from an idle consumer: the captured event is written first.
    for (const stop = Date.now() + 30_000; !(await streamConsumed(redis, stream)) && Date.now() < stop; ) await sleep(100);

    const readCpu = async (): Promise<number[]> => Promise.all(options.cpu.map((source) => source.read()));
    const cpuBefore = await readCpu();
    const started = performance.now();
    let lastId = '';
    for (let from = 0; from < options.events; from += APPEND_BATCH) {
      const pipeline = redis.pipeline();
      for (let i = from; i < Math.min(options.events, from + APPEND_BATCH); i++) {
        const fields = [...template];
        fields[payloadIndex] = JSON.stringify({ ...event, requestId: `${prefix}${i}` });
        pipeline.xadd(stream, '*', ...fields);
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [error, id] of results) {
        if (error) throw error;
        lastId = String(id);
      }
    }
    const appended = performance.now();
    const timeoutMs = Math.max(60_000, options.events * 2);
    while (!(await streamConsumed(redis, stream, lastId))) {
      if (performance.now() - started > timeoutMs) throw new Error(`the consumer had not written ${options.events} events after ${timeoutMs / 1000} s`);
      await sleep(20);
    }
    const totalMs = performance.now() - started;
    const cpuAfter = await readCpu();
    const cpuPerEventUs = Object.fromEntries(options.cpu.map((source, i) => [source.label, (cpuAfter[i]! - cpuBefore[i]!) / options.events]));

    const rows = await db.query<{ n: number; cost: string }>(
      `select count(*)::int as n, coalesce(sum(cost), 0)::text as cost from usage_records where request_id like $1`,
      [`${prefix}%`],
    );
    const debits = await db.query<{ n: number; amount: string }>(
      `select count(*)::int as n, coalesce(sum(amount), 0)::text as amount from ledger_entries where request_id like $1`,
      [`${prefix}%`],
    );
    const recorded = rows.rows[0]!.n;
    const expectedCost = BigInt(event.cost) * BigInt(options.events);
    const problems: string[] = [];
    if (recorded !== options.events) problems.push(`${recorded} usage records for ${options.events} events`);
    if (BigInt(rows.rows[0]!.cost) !== expectedCost) problems.push(`usage records cost ${rows.rows[0]!.cost}, expected ${expectedCost}`);
    const expectedDebits = expectedCost > 0n ? options.events : 0;
    if (debits.rows[0]!.n !== expectedDebits || BigInt(debits.rows[0]!.amount) !== -expectedCost) {
      problems.push(`${debits.rows[0]!.n} ledger debits of ${debits.rows[0]!.amount} nanocredits, expected ${expectedDebits} of ${-expectedCost}`);
    }
    return {
      events: options.events,
      appendMs: appended - started,
      totalMs,
      eventsPerSecond: options.events / (totalMs / 1000),
      cpuPerEventUs,
      recorded,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    redis.disconnect();
    await db.end();
  }
}
