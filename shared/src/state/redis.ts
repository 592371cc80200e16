import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { type Nanocredits } from '../money.ts';
import {
  decodeAnnouncement,
  decodeByokRecord,
  decodeKeyRecord,
  decodeRouteTable,
  encodeAnnouncement,
  encodeByokRecord,
  encodeKeyRecord,
  encodeRouteTable,
  type ByokRecord,
  type KeyRecord,
  type RouteTable,
} from '../snapshot.ts';
import { encodeUsageEvent } from '../usage.ts';
import { affinityKey, ANNOUNCE_CHANNEL, breakerKey, keyRecordKey, orgKeys, ROUTES_KEY, USAGE_GROUP, USAGE_STREAM } from './keys.ts';
import { assertReservation, assertSettlement } from './validate.ts';
import { APPLY_CREDIT, BREAKER_FAILURE, BREAKER_PROBE, BREAKER_SUCCESS, PUT_ROUTES, RESERVE, SETTLE } from './lua.ts';
import {
  SETTLED_MEMORY_SECONDS,
  type AnnouncementListener,
  type BalanceView,
  type BreakerPolicy,
  type BreakerState,
  type CreditOutcome,
  type Reservation,
  type RouteTableSkipListener,
  type ReserveOutcome,
  type SettleOutcome,
  type Settlement,
  type StateStore,
  type Unsubscribe,
  type UsageDelivery,
} from './port.ts';

/** ioredis commands defined from our scripts; the variable arity ones take keys then args. */
interface TollgateCommands {
  tgReserve(numKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
  tgApplyCredit(b: string, mark: string, amt: string, ttl: string): Promise<number>;
  tgPutRoutes(key: string, json: string, version: string, channel: string): Promise<number>;
  tgBreakerFailure(key: string, now: string, threshold: string, cool: string, channel: string, id: string): Promise<[number, number]>;
  tgBreakerSuccess(key: string, channel: string, id: string): Promise<number>;
  tgBreakerProbe(key: string, now: string, ttl: string): Promise<number>;
}
type CommandClient = Redis & TollgateCommands;
interface PipelineCommands {
  tgSettle(numKeys: number, ...keysAndArgs: string[]): ChainableCommander;
}

type StreamEntries = [id: string, fields: string[]][];

/**
 * Redis adapter. Three connections: commands; subscriptions (a subscribed connection can do
 * nothing else); and blocking stream reads (a blocked connection would stall every other command).
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  private readonly cmd: CommandClient;
  private subscriber: Redis | undefined;
  private blocking: Redis | undefined;
  private groupReady = false;
  /** Listeners sharing the subscriber connection's one subscription. */
  private listeners = 0;

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions = {},
  ) {
    this.cmd = this.connect() as CommandClient;
    // Scripts with a variable number of keys take the count as their first argument.
    this.cmd.defineCommand('tgReserve', { lua: RESERVE });
    this.cmd.defineCommand('tgSettle', { lua: SETTLE });
    this.cmd.defineCommand('tgApplyCredit', { numberOfKeys: 2, lua: APPLY_CREDIT });
    this.cmd.defineCommand('tgPutRoutes', { numberOfKeys: 1, lua: PUT_ROUTES });
    this.cmd.defineCommand('tgBreakerFailure', { numberOfKeys: 1, lua: BREAKER_FAILURE });
    this.cmd.defineCommand('tgBreakerSuccess', { numberOfKeys: 1, lua: BREAKER_SUCCESS });
    this.cmd.defineCommand('tgBreakerProbe', { numberOfKeys: 1, lua: BREAKER_PROBE });
  }

  private connect(extra: RedisOptions = {}): Redis {
    const client = new Redis(this.url, { lazyConnect: false, enableAutoPipelining: true, ...this.options, ...extra });
    // ioredis retries on its own; without a listener an 'error' event would crash the process.
    client.on('error', () => {});
    return client;
  }

  async putKeyRecord(hash: string, record: KeyRecord | null): Promise<void> {
    const tx = this.cmd.multi();
    if (record) tx.set(keyRecordKey(hash), encodeKeyRecord(record));
    else tx.del(keyRecordKey(hash));
    tx.publish(ANNOUNCE_CHANNEL, encodeAnnouncement({ kind: 'key', hash }));
    await tx.exec();
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
    const key = orgKeys(orgId).byok(provider);
    const tx = this.cmd.multi();
    if (record) tx.set(key, encodeByokRecord(record));
    else tx.del(key);
    tx.publish(ANNOUNCE_CHANNEL, encodeAnnouncement({ kind: 'byok', orgId, provider }));
    await tx.exec();
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

  async seedBalance(orgId: string, balance: Nanocredits): Promise<boolean> {
    return (await this.cmd.set(orgKeys(orgId).balance, balance.toString(), 'NX')) === 'OK';
  }

  async applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome> {
    const k = orgKeys(orgId);
    const result = await this.cmd.tgApplyCredit(k.balance, k.credited(entryId), amount.toString(), String(SETTLED_MEMORY_SECONDS));
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
    const keys = [k.balance, k.held, k.holds, k.holdDeadlines, ...r.checks.map((c) => k.counter(c.counter))];
    const args = [r.requestId, r.amount.toString(), r.overdraft.toString(), String(r.nowMs), String(r.deadlineMs)];
    for (const c of r.checks) args.push(String(c.add), String(c.limit), c.ttlSeconds === null ? '' : String(c.ttlSeconds), c.release ? '1' : '0', c.name);
    const reply = await this.cmd.tgReserve(keys.length, ...keys, ...args);
    const [outcome, ...rest] = reply;
    if (outcome === 'ok') {
      const counters: Record<string, number> = {};
      r.checks.forEach((c, i) => (counters[c.counter] = Number(rest[i])));
      return { ok: true, counters };
    }
    if (outcome === 'check_failed') return { ok: false, reason: 'check_failed', check: String(rest[0]) };
    return { ok: false, reason: outcome as 'insufficient_balance' | 'no_balance' | 'duplicate_request' };
  }

  async settle({ event, consumption }: Settlement): Promise<SettleOutcome> {
    assertSettlement({ event, consumption });
    const k = orgKeys(event.orgId);
    const keys = [k.balance, k.held, k.holds, k.holdDeadlines, k.settled(event.requestId), ...consumption.map((c) => k.counter(c.counter))];
    const args = [event.requestId, event.cost, String(SETTLED_MEMORY_SECONDS)];
    for (const c of consumption) args.push(String(c.amount), c.ttlSeconds === null ? '' : String(c.ttlSeconds));
    // One round trip: the script and the append travel in one pipeline. A repeated settlement
    // appends a repeated event, which the consumer drops by request id.
    const pipeline = this.cmd.pipeline() as ChainableCommander & PipelineCommands;
    const results = await pipeline.tgSettle(keys.length, ...keys, ...args).xadd(USAGE_STREAM, '*', 'e', encodeUsageEvent(event)).exec();
    for (const [error] of results ?? []) if (error) throw error;
    return results?.[0]?.[1] as SettleOutcome;
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

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      await this.cmd.xgroup('CREATE', USAGE_STREAM, USAGE_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    this.groupReady = true;
  }

  async readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    await this.ensureGroup();
    // In Redis, BLOCK 0 waits forever; in this port 0 means "do not wait", so omit BLOCK then.
    const reply = (
      blockMs > 0
        ? await (this.blocking ??= this.connect({ enableAutoPipelining: false })).xreadgroup(
            'GROUP', USAGE_GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', USAGE_STREAM, '>',
          )
        : await this.cmd.xreadgroup('GROUP', USAGE_GROUP, consumer, 'COUNT', count, 'STREAMS', USAGE_STREAM, '>')
    ) as [string, StreamEntries][] | null;
    return reply ? toDeliveries(reply[0]?.[1] ?? []) : [];
  }

  async claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    await this.ensureGroup();
    const reply = (await this.cmd.xautoclaim(USAGE_STREAM, USAGE_GROUP, consumer, minIdleMs, '0', 'COUNT', count)) as [
      string,
      StreamEntries,
    ];
    return toDeliveries(reply[1]);
  }

  async ackUsage(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // XACK then XDEL: acknowledged events live on in Postgres; the stream only buffers.
    await this.cmd.pipeline().xack(USAGE_STREAM, USAGE_GROUP, ...ids).xdel(USAGE_STREAM, ...ids).exec();
  }

  async close(): Promise<void> {
    // A connection blocked in XREADGROUP would answer QUIT only after its timeout: cut it.
    this.blocking?.disconnect();
    await Promise.all(
      [this.cmd, this.subscriber].filter((c): c is Redis => c !== undefined).map((c) => c.quit().catch(() => c.disconnect())),
    );
  }
}

function toDeliveries(entries: StreamEntries): UsageDelivery[] {
  const out: UsageDelivery[] = [];
  for (const [id, fields] of entries) {
    // XAUTOCLAIM reports entries deleted meanwhile with null fields.
    const index = fields ? fields.indexOf('e') : -1;
    out.push({ id, payload: index >= 0 ? (fields[index + 1] ?? '') : '' });
  }
  return out;
}
