import type { MessagePort } from 'node:worker_threads';
import type { Nanocredits } from '../money.ts';
import type { Announcement, ByokRecord, KeyRecord, RouteTable } from '../snapshot.ts';
import type { UsageEvent } from '../usage.ts';
import type {
  AnnouncementListener,
  BalanceView,
  BreakerPolicy,
  BreakerState,
  CounterSeed,
  CreditOutcome,
  DebitOutcome,
  IncludedDebit,
  Reservation,
  ReserveOutcome,
  RouteTableSkipListener,
  SettleOutcome,
  Settlement,
  StateStore,
  Unsubscribe,
  UsageDelivery,
} from './port.ts';

/**
 * A state store owned by another thread, reached over a MessagePort (embedded mode: the data plane
 * owns the in-process store on the main thread, the control plane runs in a worker). Each call is
 * a request with an id and one reply; announcements come on the same port, so one published before
 * a call returned arrives before its reply, as with the store itself. Values cross as structured
 * clones, which keep bigints (nanocredits) exact; errors cross as name, message and stack.
 */

/** Methods called as they are; `getRouteTable`, `subscribe` and `close` have their own handling. */
export const REMOTE_METHODS = [
  'putKeyRecord', 'getKeyRecord', 'putRouteTable', 'putByokRecord', 'getByokRecord', 'seedBalance', 'debitOnce', 'adjustBalance',
  'getCounters', 'seedCounters', 'applyCredit', 'getBalance', 'reserve', 'settle', 'heartbeat', 'staleInstances', 'settleOrphans',
  'getEpoch', 'setEpoch', 'breakerFailure', 'breakerSuccess', 'getBreaker', 'breakerTryProbe', 'getAffinity', 'setAffinity',
  'readUsage', 'claimStaleUsage', 'ackUsage', 'replayUsage', 'unconsumedUsage',
] as const satisfies readonly Exclude<keyof StateStore, 'kind' | 'getRouteTable' | 'subscribe' | 'close'>[];

export type RemoteMethod = (typeof REMOTE_METHODS)[number] | 'getRouteTable' | 'subscribe' | 'unsubscribe';

export interface RemoteRequest {
  id: number;
  method: RemoteMethod;
  args: unknown[];
}

export interface RemoteError {
  name: string;
  message: string;
  stack?: string | undefined;
}

export type RemoteMessage =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: RemoteError }
  | { kind: 'announcement'; subscription: number; announcement: Announcement }
  | { kind: 'resync'; subscription: number };

/** What `getRouteTable` answers over the port: the table, and what the reader skipped. */
export interface RemoteRouteTable {
  table: RouteTable | null;
  skipped: [what: string, error: RemoteError][];
}

/** The thread that owns the store is gone (or this client was closed): the store cannot be reached. */
export class StorePortClosedError extends Error {
  override name = 'StorePortClosedError';
}

/**
 * A call got no answer within its deadline, or found the waiting line full: the owning thread is
 * not serving. Like a Redis command timeout, the store is treated as unavailable (503, retried).
 */
export class StoreCallRefusedError extends Error {
  override name = 'StoreCallRefusedError';
}

export function encodeError(error: unknown): RemoteError {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };
}

const NATIVE_ERRORS: Record<string, ErrorConstructor> = { RangeError, TypeError, SyntaxError, ReferenceError, EvalError, URIError };

/** The same class for the built-in errors (callers test `instanceof RangeError`), else an Error by that name. */
export function decodeError(remote: RemoteError): Error {
  const error = new (NATIVE_ERRORS[remote.name] ?? Error)(remote.message);
  if (error.name !== remote.name) error.name = remote.name;
  if (remote.stack) error.stack = remote.stack;
  return error;
}

export interface RemoteStateStoreOptions {
  /** The adapter behind the port (the store's `kind` is part of the contract callers read). */
  kind: StateStore['kind'];
  /** Calls sent and not yet answered, at most; further calls wait for one to finish. */
  maxInFlight?: number;
  /** Calls waiting for one of those slots, at most; past it a call is refused at once. */
  maxQueued?: number;
  /**
   * How long a call may wait for its answer, its turn included; then it is refused. Longer than
   * any blocking read asks for (the usage consumer blocks up to a few seconds).
   */
  callTimeoutMs?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 256;
const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

interface Call {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Waiting {
  start(): void;
  fail(error: Error): void;
}

export class RemoteStateStore implements StateStore {
  readonly kind: StateStore['kind'];
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly callTimeoutMs: number;
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  /** Slots taken: calls sent and not answered, and slots handed to a waiting caller. */
  private slots = 0;
  /** Callers waiting for an in-flight slot, first come first served. */
  private readonly queue: Waiting[] = [];
  private readonly subscriptions = new Map<number, AnnouncementListener>();
  private gone: StorePortClosedError | null = null;

  constructor(
    private readonly port: MessagePort,
    options: RemoteStateStoreOptions,
  ) {
    this.kind = options.kind;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    port.on('message', (message: RemoteMessage) => this.receive(message));
    port.on('close', () => this.fail(new StorePortClosedError('the state store is unreachable: the thread that owns it closed its message port')));
  }

  private receive(message: RemoteMessage): void {
    if (message.kind === 'reply') {
      const call = this.calls.get(message.id);
      if (!call) return;
      this.calls.delete(message.id);
      this.release();
      if (message.ok) call.resolve(message.value);
      else call.reject(decodeError(message.error));
      return;
    }
    const listener = this.subscriptions.get(message.subscription);
    if (!listener) return;
    if (message.kind === 'announcement') listener.onAnnouncement(message.announcement);
    else listener.onResync();
  }

  /** The slot passes to the next caller waiting, if any. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.slots--;
  }

  private fail(error: StorePortClosedError): void {
    if (this.gone) return;
    this.gone = error;
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
    for (const waiting of this.queue.splice(0)) waiting.fail(error);
    this.subscriptions.clear();
  }

  private async call<T>(method: RemoteMethod, args: unknown[]): Promise<T> {
    if (this.gone) throw this.gone;
    const deadline = Date.now() + this.callTimeoutMs;
    const refused = (why: string): StoreCallRefusedError => new StoreCallRefusedError(`state store call ${method} refused: ${why}`);
    if (this.slots < this.maxInFlight) this.slots++;
    else if (this.queue.length >= this.maxQueued) throw refused(`${this.queue.length} calls already wait for the thread that owns the store`);
    else {
      await new Promise<void>((start, fail) => {
        const waiting: Waiting = {
          start: () => (clearTimeout(timer), start()),
          fail: (error) => (clearTimeout(timer), fail(error)),
        };
        const timer = setTimeout(() => {
          // Still in line (a start or failure clears this timer): it leaves the line, holding no slot.
          this.queue.splice(this.queue.indexOf(waiting), 1);
          fail(refused(`no answer within ${this.callTimeoutMs} ms (waiting for a turn)`));
        }, this.callTimeoutMs);
        this.queue.push(waiting);
      });
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // The port may have closed while this call waited for a slot.
      if (this.gone) return reject(this.gone);
      // Past the deadline the caller is answered; the slot stays taken until the owner replies,
      // so no more than maxInFlight calls are ever outstanding on its side.
      const timer = setTimeout(() => {
        const call = this.calls.get(id);
        if (!call) return;
        this.calls.set(id, { resolve: () => {}, reject: () => {} });
        call.reject(refused(`no answer within ${this.callTimeoutMs} ms`));
      }, Math.max(1, deadline - Date.now()));
      this.calls.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value as T)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      try {
        this.port.postMessage({ id, method, args } satisfies RemoteRequest);
      } catch (error) {
        // An argument that cannot be cloned: nothing was sent.
        clearTimeout(timer);
        this.calls.delete(id);
        this.release();
        reject(error as Error);
      }
    });
  }

  putKeyRecord(hash: string, record: KeyRecord | null): Promise<void> {
    return this.call('putKeyRecord', [hash, record]);
  }

  getKeyRecord(hash: string): Promise<KeyRecord | null> {
    return this.call('getKeyRecord', [hash]);
  }

  putRouteTable(table: RouteTable): Promise<void> {
    return this.call('putRouteTable', [table]);
  }

  async getRouteTable(onSkip?: RouteTableSkipListener): Promise<RouteTable | null> {
    const { table, skipped } = await this.call<RemoteRouteTable>('getRouteTable', []);
    for (const [what, error] of skipped) onSkip?.(what, decodeError(error));
    return table;
  }

  async subscribe(listener: AnnouncementListener): Promise<Unsubscribe> {
    const subscription = this.nextId++;
    this.subscriptions.set(subscription, listener);
    try {
      await this.call('subscribe', [subscription]);
    } catch (error) {
      this.subscriptions.delete(subscription);
      throw error;
    }
    return async () => {
      if (!this.subscriptions.delete(subscription) || this.gone) return;
      await this.call('unsubscribe', [subscription]);
    };
  }

  putByokRecord(orgId: string, provider: string, record: ByokRecord | null): Promise<void> {
    return this.call('putByokRecord', [orgId, provider, record]);
  }

  getByokRecord(orgId: string, provider: string): Promise<ByokRecord | null> {
    return this.call('getByokRecord', [orgId, provider]);
  }

  seedBalance(orgId: string, balance: Nanocredits, included?: readonly IncludedDebit[]): Promise<boolean> {
    return this.call('seedBalance', [orgId, balance, included]);
  }

  debitOnce(orgId: string, requestId: string, cost: Nanocredits): Promise<DebitOutcome> {
    return this.call('debitOnce', [orgId, requestId, cost]);
  }

  adjustBalance(orgId: string, delta: Nanocredits): Promise<boolean> {
    return this.call('adjustBalance', [orgId, delta]);
  }

  getCounters(orgId: string, counters: readonly string[]): Promise<Record<string, number>> {
    return this.call('getCounters', [orgId, counters]);
  }

  seedCounters(orgId: string, counters: readonly CounterSeed[], mode: 'nx' | 'set'): Promise<number> {
    return this.call('seedCounters', [orgId, counters, mode]);
  }

  applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome> {
    return this.call('applyCredit', [orgId, entryId, amount]);
  }

  getBalance(orgId: string): Promise<BalanceView | null> {
    return this.call('getBalance', [orgId]);
  }

  reserve(request: Reservation): Promise<ReserveOutcome> {
    return this.call('reserve', [request]);
  }

  settle(settlement: Settlement): Promise<SettleOutcome> {
    return this.call('settle', [settlement]);
  }

  heartbeat(instance: string, nowMs: number): Promise<void> {
    return this.call('heartbeat', [instance, nowMs]);
  }

  staleInstances(beforeMs: number): Promise<string[]> {
    return this.call('staleInstances', [beforeMs]);
  }

  settleOrphans(instance: string, lockMs: number): Promise<number> {
    return this.call('settleOrphans', [instance, lockMs]);
  }

  getEpoch(): Promise<string | null> {
    return this.call('getEpoch', []);
  }

  setEpoch(epoch: string): Promise<void> {
    return this.call('setEpoch', [epoch]);
  }

  breakerFailure(channelId: string, policy: BreakerPolicy): Promise<BreakerState> {
    return this.call('breakerFailure', [channelId, policy]);
  }

  breakerSuccess(channelId: string): Promise<void> {
    return this.call('breakerSuccess', [channelId]);
  }

  getBreaker(channelId: string): Promise<BreakerState> {
    return this.call('getBreaker', [channelId]);
  }

  breakerTryProbe(channelId: string, nowMs: number, ttlMs: number): Promise<boolean> {
    return this.call('breakerTryProbe', [channelId, nowMs, ttlMs]);
  }

  getAffinity(key: string): Promise<string | null> {
    return this.call('getAffinity', [key]);
  }

  setAffinity(key: string, value: string, ttlMs: number): Promise<void> {
    return this.call('setAffinity', [key, value, ttlMs]);
  }

  readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    return this.call('readUsage', [consumer, count, blockMs]);
  }

  claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    return this.call('claimStaleUsage', [consumer, minIdleMs, count]);
  }

  ackUsage(ids: string[]): Promise<void> {
    return this.call('ackUsage', [ids]);
  }

  replayUsage(events: readonly UsageEvent[]): Promise<void> {
    return this.call('replayUsage', [events]);
  }

  unconsumedUsage(limit: number): Promise<UsageDelivery[]> {
    return this.call('unconsumedUsage', [limit]);
  }

  /** Closes this client's end of the port; the store itself belongs to the thread that owns it. */
  async close(): Promise<void> {
    this.fail(new StorePortClosedError('the state store client is closed'));
    this.port.close();
  }
}
