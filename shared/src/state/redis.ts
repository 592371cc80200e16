import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { type Nanocredits } from '../money.ts';
import {
  decodeAnnouncement,
  encodeAnnouncement,
  encodeByokRecord,
  encodeKeyRecord,
  encodeRouteTable,
  type Announcement,
  type ByokRecord,
  type KeyRecord,
  type RouteTable,
} from '../snapshot.ts';
import { decodeByokRecord, decodeKeyRecord, decodeRouteTable } from '../snapshot-decode.ts';
import { decodeOrphan, encodeOrphan, encodeUsageEvent, type UsageEvent } from '../usage.ts';
import {
  affinityKey,
  ANNOUNCE_CHANNEL,
  breakerKey,
  EPOCH_KEY,
  INSTANCES_KEY,
  intentsKey,
  janitorLockKey,
  keyRecordKey,
  orgKeys,
  ROUTES_KEY,
  USAGE_SHARDS,
} from './keys.ts';
import { ADJUST_BALANCE, APPLY_CREDIT, BREAKER_FAILURE, BREAKER_PROBE, BREAKER_SUCCESS, DEBIT_ONCE, PUT_ANNOUNCE, PUT_ROUTES, RESERVE, SEED_BALANCE, SEED_COUNTERS, SETTLE, SETTLE_ORPHAN } from './lua.ts';
import {
  CREDITED_MEMORY_SECONDS,
  DEFAULT_SETTLED_MARKER_SECONDS,
  type AnnouncementListener,
  type BalanceView,
  type BreakerPolicy,
  type BreakerState,
  type CounterSeed,
  type CreditOutcome,
  type DebitOutcome,
  type IncludedDebit,
  type Reservation,
  type ReserveOutcome,
  type RouteTableSkipListener,
  type SettleOutcome,
  type Settlement,
  type StateStore,
  type Unsubscribe,
  type UsageDelivery,
} from './port.ts';
import { RedisUsageStream } from './redis-usage.ts';
import { assertReservation, assertSettlement } from './validate.ts';

/** ioredis commands defined from our scripts; the variable-arity ones take the key count first. */
interface TollgateCommands {
  tgReserve(numKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
  tgSettle(numKeys: number, ...keysAndArgs: string[]): Promise<string>;
  tgSettleOrphan(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  tgPutAnnounce(key: string, value: string, channel: string, announcement: string): Promise<number>;
  tgApplyCredit(b: string, mark: string, amt: string, ttl: string): Promise<number>;
  tgDebitOnce(b: string, mark: string, cost: string, ttl: string): Promise<number>;
  tgSeedBalance(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  tgSeedCounters(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  tgAdjustBalance(b: string, delta: string): Promise<number>;
  tgPutRoutes(key: string, json: string, version: string, channel: string): Promise<number>;
  tgBreakerFailure(key: string, now: string, threshold: string, cool: string, channel: string, id: string): Promise<[number, number]>;
  tgBreakerSuccess(key: string, channel: string, id: string): Promise<number>;
  tgBreakerProbe(key: string, now: string, ttl: string): Promise<number>;
}
type Client = (Redis | Cluster) & TollgateCommands;


export interface RedisStoreOptions {
  /**
   * Longest a command may wait, connected or not (ioredis queues commands while it reconnects):
   * past it the call fails, so callers answer "unavailable" quickly instead of stalling.
   */
  commandTimeoutMs?: number;
  /** How long a settled request is remembered, in whole seconds (see DEFAULT_SETTLED_MARKER_SECONDS). */
  settledMarkerSeconds?: number;
  redis?: RedisOptions;
}

/**
 * `redis://host:port/db` for one server, or `redis+cluster://host:port,host:port` for a Redis
 * Cluster (any reachable nodes; the rest are discovered).
 */
export function parseRedisUrl(url: string): { cluster: ClusterNode[] } | { single: string } {
  if (!url.startsWith('redis+cluster://')) return { single: url };
  const nodes = url
    .slice('redis+cluster://'.length)
    .split(',')
    .map((hostPort) => {
      const [host, port] = hostPort.split(':');
      return { host: host || '127.0.0.1', port: Number(port || 6379) };
    });
  return { cluster: nodes };
}

/**
 * A connection that sends the commands of one turn of the event loop in one socket write: the
 * first command corks the socket and a setImmediate uncorks it once the turn's I/O callbacks have
 * run, so concurrent requests' scripts share a writev and Redis reads them in one go. ioredis's
 * auto-pipelining does the same with a Pipeline object per tick, which copies every defined script
 * onto itself and adds promises and closures: measured, a quarter of the data plane's allocation
 * per request and half of what survived its scavenges (bench/NOTES.md).
 */
export class TickBatchedRedis extends Redis {
  private corked: Redis['stream'] | undefined;
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  };

  override sendCommand(...args: Parameters<Redis['sendCommand']>): unknown {
    // `stream` is set only for ioredis's own pipelines (multi), which write in one go already.
    if (this.corked === undefined && args[1] === undefined && this.status === 'ready' && this.stream?.writable) {
      this.corked = this.stream;
      this.corked.cork();
      setImmediate(this.uncork);
    }
    return super.sendCommand(...args);
  }
}

/**
 * Redis adapter, for one server or a Redis Cluster. Three connections: commands; subscriptions
 * (a subscribed connection can do nothing else); and blocking stream reads (a blocked connection
 * would stall every other command). In a cluster the stream shards live on different nodes, so
 * the consumer polls them instead of blocking on all at once.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  private readonly cmd: Client;
  private readonly target: ReturnType<typeof parseRedisUrl>;
  private subscriber: Redis | Cluster | undefined;
  private readonly usage: RedisUsageStream;
  /** Listeners sharing the subscriber connection's one subscription. */
  private listeners = 0;
  /** The settled markers' life in seconds, as the scripts take it. */
  private readonly settledMarkerTtl: string;

  constructor(
    url: string,
    private readonly options: RedisStoreOptions = {},
  ) {
    const markerSeconds = options.settledMarkerSeconds ?? DEFAULT_SETTLED_MARKER_SECONDS;
    if (!Number.isSafeInteger(markerSeconds) || markerSeconds < 1) throw new RangeError(`settledMarkerSeconds must be a whole number of seconds, at least 1 (got ${markerSeconds})`);
    this.settledMarkerTtl = String(markerSeconds);
    this.target = parseRedisUrl(url);
    this.cmd = this.connect() as Client;
    const define = (name: keyof TollgateCommands, lua: string, numberOfKeys?: number): void =>
      this.cmd.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    define('tgReserve', RESERVE);
    define('tgSettle', SETTLE);
    define('tgSettleOrphan', SETTLE_ORPHAN);
    define('tgPutAnnounce', PUT_ANNOUNCE, 1);
    define('tgApplyCredit', APPLY_CREDIT, 2);
    define('tgDebitOnce', DEBIT_ONCE, 2);
    define('tgSeedBalance', SEED_BALANCE);
    define('tgSeedCounters', SEED_COUNTERS);
    define('tgAdjustBalance', ADJUST_BALANCE, 1);
    define('tgPutRoutes', PUT_ROUTES, 1);
    define('tgBreakerFailure', BREAKER_FAILURE, 1);
    define('tgBreakerSuccess', BREAKER_SUCCESS, 1);
    define('tgBreakerProbe', BREAKER_PROBE, 1);
    this.usage = new RedisUsageStream(this.cmd, this.isCluster, () => this.connect({ enableAutoPipelining: false, commandTimeout: undefined }) as Redis);
  }

  get isCluster(): boolean {
    return 'cluster' in this.target;
  }

  private connect(extra: RedisOptions = {}): Redis | Cluster {
    const options: RedisOptions = {
      lazyConnect: false,
      // One write per tick comes from TickBatchedRedis instead.
      enableAutoPipelining: false,
      ...(this.options.commandTimeoutMs === undefined ? {} : { commandTimeout: this.options.commandTimeoutMs }),
      ...this.options.redis,
      ...extra,
    };
    const client =
      'cluster' in this.target
        ? // ioredis's auto-pipelining across a cluster's slots has been seen to mix slots in one
          // pipeline ("All keys in the pipeline should belong to the same slots"): off there.
          new Cluster(this.target.cluster, { redisOptions: { ...options, enableAutoPipelining: false }, enableAutoPipelining: false })
        : new TickBatchedRedis(this.target.single, options);
    // ioredis retries on its own; without a listener an 'error' event would crash the process.
    client.on('error', () => {});
    return client;
  }

  private async putAndAnnounce(key: string, value: string | null, announcement: Announcement): Promise<void> {
    await this.cmd.tgPutAnnounce(key, value ?? '', ANNOUNCE_CHANNEL, encodeAnnouncement(announcement));
  }

  async putKeyRecord(hash: string, record: KeyRecord | null): Promise<void> {
    await this.putAndAnnounce(keyRecordKey(hash), record ? encodeKeyRecord(record) : null, { kind: 'key', hash });
  }

  async getKeyRecord(hash: string): Promise<KeyRecord | null> {
    const text = await this.cmd.get(keyRecordKey(hash));
    return text === null ? null : decodeKeyRecord(text);
  }

  async putRouteTable(table: RouteTable): Promise<void> {
    await this.cmd.tgPutRoutes(ROUTES_KEY, encodeRouteTable(table), String(table.version), ANNOUNCE_CHANNEL);
  }

  async getRouteTable(onSkip?: RouteTableSkipListener): Promise<RouteTable | null> {
    const text = await this.cmd.get(ROUTES_KEY);
    return text === null ? null : decodeRouteTable(text, onSkip);
  }

  async putByokRecord(orgId: string, provider: string, record: ByokRecord | null): Promise<void> {
    await this.putAndAnnounce(orgKeys(orgId).byok(provider), record ? encodeByokRecord(record) : null, { kind: 'byok', orgId, provider });
  }

  async getByokRecord(orgId: string, provider: string): Promise<ByokRecord | null> {
    const text = await this.cmd.get(orgKeys(orgId).byok(provider));
    return text === null ? null : decodeByokRecord(text);
  }

  async subscribe(listener: AnnouncementListener): Promise<Unsubscribe> {
    const sub = (this.subscriber ??= this.connect({ enableAutoPipelining: false }));
    // The first 'ready' is the initial connect; any later one follows a disconnect. A listener
    // joining a connection that is up already has seen its initial connect.
    let first = sub.status !== 'ready';
    const onReady = (): void => {
      if (first) first = false;
      else listener.onResync();
    };
    const onMessage = (channel: string, message: string): void => {
      if (channel !== ANNOUNCE_CHANNEL) return;
      const announcement = decodeAnnouncement(message);
      if (announcement) listener.onAnnouncement(announcement);
      else listener.onResync();
    };
    sub.on('ready', onReady);
    sub.on('message', onMessage);
    this.listeners++;
    await sub.subscribe(ANNOUNCE_CHANNEL);
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      sub.off('ready', onReady);
      sub.off('message', onMessage);
      // One channel subscription serves every listener: it ends with the last one.
      if (--this.listeners === 0) await sub.unsubscribe(ANNOUNCE_CHANNEL);
    };
  }

  async seedBalance(orgId: string, balance: Nanocredits, included: readonly IncludedDebit[] = []): Promise<boolean> {
    const k = orgKeys(orgId);
    const keys = [k.balance, ...included.map((d) => k.settled(d.requestId))];
    const args = [balance.toString(), this.settledMarkerTtl, ...included.map((d) => d.cost.toString())];
    return (await this.cmd.tgSeedBalance(keys.length, ...keys, ...args)) === 1;
  }

  async debitOnce(orgId: string, requestId: string, cost: Nanocredits): Promise<DebitOutcome> {
    const k = orgKeys(orgId);
    const result = await this.cmd.tgDebitOnce(k.balance, k.settled(requestId), cost.toString(), this.settledMarkerTtl);
    return result === 1 ? 'applied' : result === 0 ? 'repeat' : 'no_balance';
  }

  async adjustBalance(orgId: string, delta: Nanocredits): Promise<boolean> {
    return (await this.cmd.tgAdjustBalance(orgKeys(orgId).balance, delta.toString())) === 1;
  }

  async getCounters(orgId: string, counters: readonly string[]): Promise<Record<string, number>> {
    if (counters.length === 0) return {};
    const k = orgKeys(orgId);
    const values = await this.cmd.mget(...counters.map((c) => k.counter(c)));
    return Object.fromEntries(counters.map((c, i) => [c, Number(values[i] ?? 0)]));
  }

  async seedCounters(orgId: string, counters: readonly CounterSeed[], mode: 'nx' | 'set'): Promise<number> {
    if (counters.length === 0) return 0;
    const k = orgKeys(orgId);
    const keys = counters.map((c) => k.counter(c.counter));
    const args = counters.flatMap((c) => [String(Math.max(0, Math.floor(c.value))), c.ttlSeconds === null ? '' : String(c.ttlSeconds)]);
    return this.cmd.tgSeedCounters(keys.length, ...keys, ...args, mode);
  }

  async applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome> {
    const k = orgKeys(orgId);
    const result = await this.cmd.tgApplyCredit(k.balance, k.credited(entryId), amount.toString(), String(CREDITED_MEMORY_SECONDS));
    return result === 1 ? 'applied' : result === 0 ? 'repeat' : 'no_balance';
  }

  async getBalance(orgId: string): Promise<BalanceView | null> {
    const k = orgKeys(orgId);
    const [balance, held] = await this.cmd.mget(k.balance, k.held);
    if (balance === null || balance === undefined) return null;
    return { balance: BigInt(balance), held: BigInt(held ?? '0') };
  }

  async reserve(r: Reservation): Promise<ReserveOutcome> {
    assertReservation(r);
    const k = orgKeys(r.orgId);
    const keys = [k.balance, k.held, k.holds, k.holdDeadlines, k.intents, ...r.checks.map((c) => k.counter(c.counter))];
    const args = [r.requestId, r.amount.toString(), r.overdraft.toString(), String(r.nowMs), String(r.deadlineMs), r.instance, encodeOrphan(r.orphan)];
    for (const c of r.checks) args.push(String(c.add), String(c.limit), c.ttlSeconds === null ? '' : String(c.ttlSeconds), c.release ? '1' : '0', c.name);
    const reply = await this.cmd.tgReserve(keys.length, ...keys, ...args);
    const [outcome, ...rest] = reply;
    if (outcome === 'ok') {
      const [balance, heldLessOverdraft, ...values] = rest;
      const counters: Record<string, number> = {};
      r.checks.forEach((c, i) => (counters[c.counter] = Number(values[i])));
      return { ok: true, available: BigInt(String(balance)) - BigInt(String(heldLessOverdraft)), counters };
    }
    if (outcome === 'check_failed') return { ok: false, reason: 'check_failed', check: String(rest[0]) };
    return { ok: false, reason: outcome as 'insufficient_balance' | 'no_balance' | 'duplicate_request' };
  }

  async settle({ event, consumption, eventText }: Settlement): Promise<SettleOutcome> {
    assertSettlement({ event, consumption });
    const k = orgKeys(event.orgId);
    const keys = [k.balance, k.held, k.holds, k.holdDeadlines, k.settled(event.requestId), k.intents, k.stream, ...consumption.map((c) => k.counter(c.counter))];
    const args = [event.requestId, event.cost, this.settledMarkerTtl, eventText ?? encodeUsageEvent(event)];
    for (const c of consumption) args.push(String(c.amount), c.ttlSeconds === null ? '' : String(c.ttlSeconds));
    return (await this.cmd.tgSettle(keys.length, ...keys, ...args)) as SettleOutcome;
  }

  async heartbeat(instance: string, nowMs: number): Promise<void> {
    await this.cmd.zadd(INSTANCES_KEY, nowMs, instance);
  }

  async staleInstances(beforeMs: number): Promise<string[]> {
    return this.cmd.zrangebyscore(INSTANCES_KEY, '-inf', `(${beforeMs}`);
  }

  async settleOrphans(instance: string, lockMs: number): Promise<number> {
    if ((await this.cmd.set(janitorLockKey(instance), '1', 'PX', lockMs, 'NX')) !== 'OK') return 0;
    let settled = 0;
    for (let shard = 0; shard < USAGE_SHARDS; shard++) {
      let cursor = '0';
      do {
        const [next, flat] = await this.cmd.hscan(intentsKey(shard), cursor, 'COUNT', 200);
        cursor = next;
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const requestId = flat[i]!;
          const intent = flat[i + 1]!;
          if (!intent.startsWith(`${instance}|`)) continue;
          let orphan: UsageEvent;
          try {
            orphan = decodeOrphan(requestId, intent.slice(instance.length + 1));
          } catch {
            continue; // not ours to read; it stays for an operator (reconcile shows its hold)
          }
          const k = orgKeys(orphan.orgId);
          const keys = [k.balance, k.held, k.holds, k.holdDeadlines, k.settled(requestId), k.intents, k.stream];
          settled += await this.cmd.tgSettleOrphan(keys.length, ...keys, requestId, instance, this.settledMarkerTtl, encodeUsageEvent(orphan), orphan.cost);
        }
      } while (cursor !== '0');
    }
    await this.cmd.zrem(INSTANCES_KEY, instance);
    return settled;
  }

  async getEpoch(): Promise<string | null> {
    return this.cmd.get(EPOCH_KEY);
  }

  async setEpoch(epoch: string): Promise<void> {
    await this.cmd.set(EPOCH_KEY, epoch);
  }

  async breakerFailure(channelId: string, policy: BreakerPolicy): Promise<BreakerState> {
    const [openUntil, failures] = await this.cmd.tgBreakerFailure(
      breakerKey(channelId), String(policy.nowMs), String(policy.threshold), String(policy.coolDownMs), ANNOUNCE_CHANNEL, channelId,
    );
    return { openUntil: Number(openUntil), failures: Number(failures) };
  }

  async breakerSuccess(channelId: string): Promise<void> {
    await this.cmd.tgBreakerSuccess(breakerKey(channelId), ANNOUNCE_CHANNEL, channelId);
  }

  async getBreaker(channelId: string): Promise<BreakerState> {
    const [openUntil, failures] = await this.cmd.hmget(breakerKey(channelId), 'openUntil', 'failures');
    return { openUntil: Number(openUntil ?? 0), failures: Number(failures ?? 0) };
  }

  async breakerTryProbe(channelId: string, nowMs: number, ttlMs: number): Promise<boolean> {
    return (await this.cmd.tgBreakerProbe(breakerKey(channelId), String(nowMs), String(ttlMs))) === 1;
  }

  async getAffinity(key: string): Promise<string | null> {
    return this.cmd.get(affinityKey(key));
  }

  async setAffinity(key: string, value: string, ttlMs: number): Promise<void> {
    await this.cmd.set(affinityKey(key), value, 'PX', ttlMs);
  }

  // --- usage stream: one stream per shard, one consumer group on each -------------------------

  readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    return this.usage.read(consumer, count, blockMs);
  }

  claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    return this.usage.claimStale(consumer, minIdleMs, count);
  }

  ackUsage(ids: string[]): Promise<void> {
    return this.usage.ack(ids);
  }

  replayUsage(events: readonly UsageEvent[]): Promise<void> {
    return this.usage.replay(events);
  }

  unconsumedUsage(limit: number): Promise<UsageDelivery[]> {
    return this.usage.unconsumed(limit);
  }

  async close(): Promise<void> {
    this.usage.close();
    await Promise.all(
      [this.cmd, this.subscriber].filter((c): c is Redis | Cluster => c !== undefined).map((c) => c.quit().catch(() => c.disconnect())),
    );
  }
}
