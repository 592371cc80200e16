import type { Cluster, Redis } from 'ioredis';
import { encodeUsageEvent, type UsageEvent } from '../usage.ts';
import { orgKeys, USAGE_GROUP, USAGE_SHARDS, usageStream } from './keys.ts';
import type { UsageDelivery } from './port.ts';

type StreamEntries = [id: string, fields: string[] | null][];

/** How long a cluster consumer sleeps between polls of the shards when none had events. */
const CLUSTER_POLL_MS = 50;

/**
 * The usage stream in Redis: one stream per shard (`tg:{s<n>}:usage`, so a settlement script and
 * the stream it appends to share a Cluster slot), read by one consumer group. A delivery's id is
 * `<shard>/<entry id>`. Acknowledged entries are deleted: the events live on in Postgres.
 */
export class RedisUsageStream {
  /** The connection a blocking XREADGROUP waits on, apart from the commands' one. */
  private blocking: Redis | undefined;
  private readonly groupsReady = new Set<number>();

  constructor(
    private readonly cmd: Redis | Cluster,
    private readonly isCluster: boolean,
    private readonly connectBlocking: () => Redis,
  ) {}

  private async ensureGroup(shard: number): Promise<void> {
    if (this.groupsReady.has(shard)) return;
    try {
      await this.cmd.xgroup('CREATE', usageStream(shard), USAGE_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    this.groupsReady.add(shard);
  }

  /** Runs a stream command on a shard, recreating the group once if Redis lost it (a wipe). */
  private async onShard<T>(shard: number, run: () => Promise<T>): Promise<T> {
    await this.ensureGroup(shard);
    try {
      return await run();
    } catch (error) {
      if (!String((error as Error).message).includes('NOGROUP')) throw error;
      this.groupsReady.delete(shard);
      await this.ensureGroup(shard);
      return run();
    }
  }

  async read(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    if (!this.isCluster) {
      for (let shard = 0; shard < USAGE_SHARDS; shard++) await this.ensureGroup(shard);
      const streams = Array.from({ length: USAGE_SHARDS }, (_, shard) => usageStream(shard));
      const ids = streams.map(() => '>');
      const read = async (): Promise<[string, StreamEntries][] | null> =>
        // In Redis, BLOCK 0 waits forever; in this port 0 means "do not wait", so omit BLOCK then.
        (blockMs > 0
          ? await (this.blocking ??= this.connectBlocking()).xreadgroup(
              'GROUP', USAGE_GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...streams, ...ids,
            )
          : await (this.cmd as Redis).xreadgroup('GROUP', USAGE_GROUP, consumer, 'COUNT', count, 'STREAMS', ...streams, ...ids)) as [string, StreamEntries][] | null;
      let reply: [string, StreamEntries][] | null;
      try {
        reply = await read();
      } catch (error) {
        if (!String((error as Error).message).includes('NOGROUP')) throw error;
        this.groupsReady.clear();
        return [];
      }
      const out: UsageDelivery[] = [];
      for (const [stream, entries] of reply ?? []) out.push(...toDeliveries(shardOfStream(stream), entries));
      // COUNT applies per stream: the batch may hold more than `count`, all delivered, all returned.
      return out;
    }
    // A cluster: the shards live on different nodes; poll them in turn, waiting a little when idle.
    const deadline = Date.now() + blockMs;
    for (;;) {
      const out: UsageDelivery[] = [];
      for (let shard = 0; shard < USAGE_SHARDS && out.length < count; shard++) {
        const reply = (await this.onShard(shard, () =>
          this.cmd.xreadgroup('GROUP', USAGE_GROUP, consumer, 'COUNT', count - out.length, 'STREAMS', usageStream(shard), '>'),
        )) as [string, StreamEntries][] | null;
        out.push(...toDeliveries(shard, reply?.[0]?.[1] ?? []));
      }
      if (out.length > 0 || Date.now() >= deadline) return out;
      await new Promise((resolve) => setTimeout(resolve, Math.min(CLUSTER_POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    const out: UsageDelivery[] = [];
    for (let shard = 0; shard < USAGE_SHARDS && out.length < count; shard++) {
      const reply = (await this.onShard(shard, () =>
        this.cmd.xautoclaim(usageStream(shard), USAGE_GROUP, consumer, minIdleMs, '0', 'COUNT', count - out.length),
      )) as [string, StreamEntries];
      out.push(...toDeliveries(shard, reply[1]));
    }
    return out;
  }

  async ack(ids: string[]): Promise<void> {
    const byShard = new Map<number, string[]>();
    for (const id of ids) {
      const [shard, entry] = splitDeliveryId(id);
      byShard.set(shard, [...(byShard.get(shard) ?? []), entry]);
    }
    // XACK and XDEL (acknowledged events live on in Postgres; the stream only buffers) in one
    // MULTI, which Redis runs whole or not at all: a consumer killed between two separate commands
    // left an acknowledged entry in the stream, which every later reader (reconcile, and a repair
    // built on it) took for an event not consumed yet. One shard's stream is one key, one slot.
    for (const [shard, entries] of byShard) {
      const stream = usageStream(shard);
      const replies = await this.cmd.multi().xack(stream, USAGE_GROUP, ...entries).xdel(stream, ...entries).exec();
      const failed = replies?.find(([error]) => error)?.[0];
      if (!replies || failed) throw failed ?? new Error('acknowledging usage entries: the transaction was aborted');
    }
  }

  async replay(events: readonly UsageEvent[]): Promise<void> {
    // Sent together (on one server, in one write per event-loop turn: TickBatchedRedis): a minute of
    // events must not take a round trip each.
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((event) => this.cmd.xadd(orgKeys(event.orgId).stream, '*', 'e', encodeUsageEvent(event), 'd', '0')));
    }
  }

  /**
   * The stream's entries minus those acknowledged: an entry the group has delivered (at or before
   * its last-delivered id) counts only while it is pending. Acknowledging deletes the entry in the
   * same MULTI, but a store written by an older version may still hold acknowledged entries.
   */
  async unconsumed(limit: number): Promise<UsageDelivery[]> {
    const out: UsageDelivery[] = [];
    for (let shard = 0; shard < USAGE_SHARDS && out.length < limit; shard++) {
      const stream = usageStream(shard);
      const lastDelivered = await this.lastDeliveredId(stream);
      let start = '-';
      while (out.length < limit) {
        const page = (await this.cmd.xrange(stream, start, '+', 'COUNT', Math.min(1000, limit - out.length))) as StreamEntries;
        if (page.length === 0) break;
        const first = page[0]![0];
        const pending = lastDelivered !== null && compareStreamIds(first, lastDelivered) <= 0 ? await this.pendingIds(stream, first, page[page.length - 1]![0]) : null;
        const unacknowledged = page.filter(([id]) => pending === null || compareStreamIds(id, lastDelivered!) > 0 || pending.has(id));
        out.push(...toDeliveries(shard, unacknowledged).slice(0, limit - out.length));
        start = `(${page[page.length - 1]![0]}`;
      }
    }
    return out;
  }

  /** The group's last-delivered id on a stream; null when the stream or the group does not exist (nothing delivered). */
  private async lastDeliveredId(stream: string): Promise<string | null> {
    let groups: unknown[][];
    try {
      groups = (await this.cmd.xinfo('GROUPS', stream)) as unknown[][];
    } catch (error) {
      if (String((error as Error).message).includes('no such key')) return null;
      throw error;
    }
    for (const fields of groups) {
      const info = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
      if (info.get('name') === USAGE_GROUP) return String(info.get('last-delivered-id'));
    }
    return null;
  }

  /**
   * The group's pending ids from `first` to `last`, inclusive, read in pages: the pending list
   * may also hold ids whose entries were deleted, so one page the size of the range is not enough.
   */
  private async pendingIds(stream: string, first: string, last: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (let from = first; ; ) {
      const page = (await this.cmd.xpending(stream, USAGE_GROUP, from, last, 1000)) as [string, ...unknown[]][];
      for (const [id] of page) ids.add(id);
      if (page.length < 1000) return ids;
      from = `(${page[page.length - 1]![0]}`;
    }
  }

  /** A connection blocked in XREADGROUP would answer QUIT only after its timeout: cut it. */
  close(): void {
    this.blocking?.disconnect();
  }
}

/** Orders two stream ids ("<ms>-<seq>"). */
function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
  return aMs !== bMs ? (aMs < bMs ? -1 : 1) : aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

function shardOfStream(stream: string): number {
  const match = /^tg:\{s(\d+)\}:usage$/.exec(stream);
  return match ? Number(match[1]) : 0;
}

function splitDeliveryId(id: string): [number, string] {
  const slash = id.indexOf('/');
  return [Number(id.slice(0, slash)), id.slice(slash + 1)];
}

function toDeliveries(shard: number, entries: StreamEntries): UsageDelivery[] {
  const out: UsageDelivery[] = [];
  for (const [id, fields] of entries) {
    // XAUTOCLAIM reports entries deleted meanwhile with null fields.
    out.push({ id: `${shard}/${id}`, payload: fieldOf(fields, 'e') ?? '', storeDebited: fieldOf(fields, 'd') !== '0' });
  }
  return out;
}

/** A stream entry's field; entries from before a field existed lack it. */
function fieldOf(fields: string[] | null, name: string): string | null {
  if (!fields) return null;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return null;
}

