import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { type Nanocredits } from '../money.ts';
import {
  decodeAnnouncement,
  decodeKeyRecord,
  decodeRouteTable,
  encodeAnnouncement,
  encodeKeyRecord,
  encodeRouteTable,
  type KeyRecord,
  type RouteTable,
} from '../snapshot.ts';
import { encodeUsageEvent, type UsageEvent } from '../usage.ts';
import { ANNOUNCE_CHANNEL, keyRecordKey, orgKeys, ROUTES_KEY, USAGE_GROUP, USAGE_STREAM } from './keys.ts';
import { APPLY_CREDIT, PUT_ROUTES, RESERVE, SETTLE } from './lua.ts';
import {
  SETTLED_MEMORY_SECONDS,
  type AnnouncementListener,
  type BalanceView,
  type CreditOutcome,
  type Reservation,
  type ReserveOutcome,
  type SettleOutcome,
  type StateStore,
  type Unsubscribe,
  type UsageDelivery,
} from './port.ts';

interface TollgateCommands {
  tgReserve(b: string, h: string, hs: string, dl: string, id: string, amt: string, now: string, dead: string): Promise<string>;
  tgSettle(b: string, h: string, hs: string, dl: string, mark: string, id: string, cost: string, ttl: string): Promise<string>;
  tgApplyCredit(b: string, mark: string, amt: string, ttl: string): Promise<number>;
  tgPutRoutes(key: string, json: string, version: string, channel: string): Promise<number>;
}
type CommandClient = Redis & TollgateCommands;
interface PipelineCommands {
  tgSettle(...args: string[]): ChainableCommander;
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

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions = {},
  ) {
    this.cmd = this.connect() as CommandClient;
    this.cmd.defineCommand('tgReserve', { numberOfKeys: 4, lua: RESERVE });
    this.cmd.defineCommand('tgSettle', { numberOfKeys: 5, lua: SETTLE });
    this.cmd.defineCommand('tgApplyCredit', { numberOfKeys: 2, lua: APPLY_CREDIT });
    this.cmd.defineCommand('tgPutRoutes', { numberOfKeys: 1, lua: PUT_ROUTES });
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

  async getRouteTable(): Promise<RouteTable | null> {
    const text = await this.cmd.get(ROUTES_KEY);
    return text === null ? null : decodeRouteTable(text);
  }

  async subscribe(listener: AnnouncementListener): Promise<Unsubscribe> {
    const sub = (this.subscriber ??= this.connect({ enableAutoPipelining: false }));
    let first = true;
    const onReady = (): void => {
      // The first 'ready' is the initial connect; any later one follows a disconnect.
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
    await sub.subscribe(ANNOUNCE_CHANNEL);
    return async () => {
      sub.off('ready', onReady);
      sub.off('message', onMessage);
      await sub.unsubscribe(ANNOUNCE_CHANNEL);
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
    const k = orgKeys(r.orgId);
    const outcome = await this.cmd.tgReserve(
      k.balance, k.held, k.holds, k.holdDeadlines,
      r.requestId, r.amount.toString(), String(r.nowMs), String(r.deadlineMs),
    );
    return outcome === 'ok' ? { ok: true } : { ok: false, reason: outcome as 'insufficient_balance' };
  }

  async settle(event: UsageEvent): Promise<SettleOutcome> {
    const k = orgKeys(event.orgId);
    // One round trip: the script and the append travel in one pipeline. A repeated settlement
    // appends a repeated event, which the consumer drops by request id.
    const pipeline = this.cmd.pipeline() as ChainableCommander & PipelineCommands;
    const results = await pipeline
      .tgSettle(k.balance, k.held, k.holds, k.holdDeadlines, k.settled(event.requestId), event.requestId, event.cost, String(SETTLED_MEMORY_SECONDS))
      .xadd(USAGE_STREAM, '*', 'e', encodeUsageEvent(event))
      .exec();
    for (const [error] of results ?? []) if (error) throw error;
    return results?.[0]?.[1] as SettleOutcome;
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
