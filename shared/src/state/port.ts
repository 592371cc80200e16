import type { Nanocredits } from '../money.ts';
import type { Announcement, ByokRecord, KeyRecord, RouteTable } from '../snapshot.ts';
import type { UsageEvent } from '../usage.ts';

/**
 * The state store: everything the data plane reads or changes, and the only way the two planes
 * talk. Two adapters pass one contract suite: `redis` (production, any number of processes) and
 * `memory` (embedded mode, both planes in one process). Money changes are single atomic steps
 * (Lua scripts in Redis), one round trip per decision.
 */
export interface StateStore {
  readonly kind: 'redis' | 'memory';

  // --- snapshots: written by the control plane, read by the data plane -----------------------
  /** Stores (or with null, deletes) the key record for a key hash and announces the change. */
  putKeyRecord(hash: string, record: KeyRecord | null): Promise<void>;
  getKeyRecord(hash: string): Promise<KeyRecord | null>;
  /** Stores the route table unless a newer version is stored, and announces it. */
  putRouteTable(table: RouteTable): Promise<void>;
  /** The stored route table; channels, models or plans it cannot read are left out and reported. */
  getRouteTable(onSkip?: RouteTableSkipListener): Promise<RouteTable | null>;
  /**
   * Calls `onAnnouncement` for every change, and `onResync` whenever announcements may have been
   * missed (after a reconnect): the subscriber must then drop its caches. Resolves once subscribed.
   */
  subscribe(listener: AnnouncementListener): Promise<Unsubscribe>;
  /** Stores (or with null, deletes) an org's credential for a provider and announces the change. */
  putByokRecord(orgId: string, provider: string, record: ByokRecord | null): Promise<void>;
  getByokRecord(orgId: string, provider: string): Promise<ByokRecord | null>;

  // --- balances: the ledger in Postgres is the truth, these are its cache ----------------------
  /**
   * Sets an org's balance from the ledger when the store has none (fresh org, or a fresh Redis).
   * `included`: requests the ledger holds whose debit the store may not have applied (events settled
   * while it held no balance): the seed marks them debited; if a balance is already there, each one
   * not yet debited is debited now. True when this call seeded the balance.
   */
  seedBalance(orgId: string, balance: Nanocredits, included?: readonly IncludedDebit[]): Promise<boolean>;
  /**
   * Debits a consumed event that was settled while the store held no balance (`storeDebited`
   * false), once per request id. 'no_balance': nothing was done; the seed from the ledger covers it.
   */
  debitOnce(orgId: string, requestId: string, cost: Nanocredits): Promise<DebitOutcome>;
  /** Adds a repair's delta to a balance the store holds; false when it holds none. */
  adjustBalance(orgId: string, delta: Nanocredits): Promise<boolean>;
  /** Current values of an org's counters (absent ones are 0). */
  getCounters(orgId: string, counters: readonly string[]): Promise<Record<string, number>>;
  /**
   * Writes counters (spend per period, from the usage records): 'nx' only where the store has
   * none (a new limit, a fresh Redis), 'set' over what is there (repair). Returns how many were written.
   */
  seedCounters(orgId: string, counters: readonly CounterSeed[], mode: 'nx' | 'set'): Promise<number>;
  /**
   * Adds a ledger movement to the cached balance once per `entryId`. 'no_balance' means the store
   * holds no balance for the org: seed it from the ledger instead (which includes the movement).
   */
  applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome>;
  getBalance(orgId: string): Promise<BalanceView | null>;
  /**
   * Admission, one atomic step: releases expired holds, then checks every limit and, only when all
   * pass, holds `amount` of the org's balance (which may go down to `-overdraft`, never further) and
   * applies each counter check's `add`. Holds expire at `deadlineMs` so a data plane that dies
   * mid-request cannot freeze money or counters forever.
   */
  reserve(request: Reservation): Promise<ReserveOutcome>;
  /**
   * Releases the request's hold and its counters, debits its final cost, adds its consumption to
   * counters and appends its usage event. Repeating a settlement for the same request id changes
   * nothing (the usage consumer is idempotent too).
   */
  settle(settlement: Settlement): Promise<SettleOutcome>;

  // --- data-plane instances: a lease each, so a dead one's requests are settled within seconds --
  /** Records that this instance is alive. */
  heartbeat(instance: string, nowMs: number): Promise<void>;
  /** Instances whose last heartbeat is older than `beforeMs`. */
  staleInstances(beforeMs: number): Promise<string[]>;
  /**
   * Settles every request a dead instance left (releasing holds and counters, appending each
   * orphan event once) and forgets the instance. Safe to run from several data planes at once:
   * one takes the instance for `lockMs`, the others get 0. Returns how many were settled here.
   */
  settleOrphans(instance: string, lockMs: number): Promise<number>;
  /**
   * An identifier of the published state: written by the control plane after everything is
   * published, absent when the store was wiped (so an unknown key then means "not loaded yet").
   */
  getEpoch(): Promise<string | null>;
  setEpoch(epoch: string): Promise<void>;

  // --- circuit breakers, shared by every data plane --------------------------------------------
  /** Records a failed call; opens the breaker at the threshold and announces it. */
  breakerFailure(channelId: string, policy: BreakerPolicy): Promise<BreakerState>;
  /** Records a successful call; closes an open or half-open breaker and announces it. */
  breakerSuccess(channelId: string): Promise<void>;
  getBreaker(channelId: string): Promise<BreakerState>;
  /** After the cool-down, lets exactly one caller (for `ttlMs`) send the half-open probe. */
  breakerTryProbe(channelId: string, nowMs: number, ttlMs: number): Promise<boolean>;

  // --- prompt-cache affinity ---------------------------------------------------------------------
  getAffinity(key: string): Promise<string | null>;
  setAffinity(key: string, value: string, ttlMs: number): Promise<void>;

  // --- usage stream: appended by data planes, consumed by the control plane in batches ----------
  /** Reads up to `count` new events for this consumer, waiting at most `blockMs` for the first. */
  readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]>;
  /** Takes over events delivered to consumers that died without acknowledging them. */
  claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]>;
  ackUsage(ids: string[]): Promise<void>;
  /**
   * Appends events again after the store lost its data (their settlement was in the lost stream):
   * marked as not debited here, so the consumer writes each once (idempotent on the request id)
   * and debits the store only for those the ledger did not have.
   */
  replayUsage(events: readonly UsageEvent[]): Promise<void>;
  /** Every event appended and not yet acknowledged (delivered or not), oldest first, at most `limit`. */
  unconsumedUsage(limit: number): Promise<UsageDelivery[]>;

  close(): Promise<void>;
}

export interface AnnouncementListener {
  onAnnouncement(announcement: Announcement): void;
  onResync(): void;
}

export type Unsubscribe = () => Promise<void>;

export type RouteTableSkipListener = (what: string, error: Error) => void;

export interface BalanceView {
  balance: Nanocredits;
  held: Nanocredits;
}

/**
 * A generic limit on a counter under the org's key space (concurrency, fair use, ...): it passes
 * when `counter + add <= limit` (or, with `add` 0, when `counter < limit`). Both adapters interpret
 * the same check definitions; nothing is specific to one limit.
 */
export interface CounterCheck {
  /** The error the request gets when this check fails. */
  name: string;
  /** Counter name, unique within the org (a window's name carries its period, e.g. `fair:2026-11`). */
  counter: string;
  add: number;
  limit: number;
  /** Expiry set when the counter is created (a window), or null. */
  ttlSeconds: number | null;
  /** Subtract `add` again at settlement or hold expiry (concurrency); else it stays (rates). */
  release: boolean;
}

export interface Reservation {
  orgId: string;
  requestId: string;
  /** The data-plane instance serving the request: if it dies, `orphan` is settled for it. */
  instance: string;
  /**
   * The usage event to settle if the instance dies before it settles (the upstream had the
   * request: its input estimate, marked `orphaned`). Its cost is at most `amount`.
   */
  orphan: UsageEvent;
  amount: Nanocredits;
  /** How far below zero the balance may go (operator-set; 0 by default). */
  overdraft: Nanocredits;
  checks: CounterCheck[];
  nowMs: number;
  deadlineMs: number;
}

export type ReserveOutcome =
  /** `available`: balance + overdraft - held, after this hold. */
  | { ok: true; available: Nanocredits; counters: Record<string, number> }
  | { ok: false; reason: 'insufficient_balance' | 'no_balance' | 'duplicate_request' }
  | { ok: false; reason: 'check_failed'; check: string };

/** Consumption added to a counter at settlement (e.g. fair-use tokens). */
export interface CounterConsumption {
  counter: string;
  amount: number;
  ttlSeconds: number | null;
}

export interface Settlement {
  event: UsageEvent;
  consumption: CounterConsumption[];
  /**
   * `encodeUsageEvent(event)`, when the caller has it already (the data plane keeps it for its
   * journal): the event is then not encoded a second time for the stream.
   */
  eventText?: string;
}

export interface BreakerPolicy {
  nowMs: number;
  /** Consecutive failures that open the breaker. */
  threshold: number;
  coolDownMs: number;
}

export interface BreakerState {
  /** Epoch ms until which the breaker is open; 0 when closed. Past it, the breaker is half-open. */
  openUntil: number;
  failures: number;
}

export type CreditOutcome = 'applied' | 'repeat' | 'no_balance';

export type DebitOutcome = 'applied' | 'repeat' | 'no_balance';

export interface IncludedDebit {
  requestId: string;
  cost: Nanocredits;
}

export interface CounterSeed {
  counter: string;
  value: number;
  ttlSeconds: number | null;
}

export type SettleOutcome = 'settled' | 'already_settled';

export interface UsageDelivery {
  /** Opaque id of the stream entry (its shard and entry id), used to acknowledge. */
  id: string;
  /** The raw payload; decoding happens in the consumer so one bad entry cannot stall a batch. */
  payload: string;
  /**
   * Whether settlement debited the store's balance. False when the store held none (after a wipe):
   * the consumer then debits it once the event is in the ledger.
   */
  storeDebited: boolean;
}

/**
 * How long Redis remembers a settled request by default (`TOLLGATE_SETTLED_MARKER_HOURS`), so that a
 * second settlement of it changes nothing: a data plane's retry, or its late settlement of a request
 * another data plane settled as an orphan while it was cut off from Redis. One arriving later than
 * this debits the live balance a second time. The ledger still holds the request once (its usage
 * record and debit are unique per request id), and `tollgate reconcile` reports the difference and
 * repairs it. Each marker costs Redis about 180 bytes for this long.
 */
export const DEFAULT_SETTLED_MARKER_SECONDS = 24 * 3600;
/** The longest TOLLGATE_SETTLED_MARKER_HOURS both planes accept: a year. */
export const MAX_SETTLED_MARKER_HOURS = 8760;

/** How long a credit applied to a balance in the store is remembered (credits are few). */
export const CREDITED_MEMORY_SECONDS = 7 * 24 * 3600;
