import type { Nanocredits } from '../money.ts';
import type { Announcement, KeyRecord, RouteTable } from '../snapshot.ts';
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
  getRouteTable(): Promise<RouteTable | null>;
  /**
   * Calls `onAnnouncement` for every change, and `onResync` whenever announcements may have been
   * missed (after a reconnect): the subscriber must then drop its caches. Resolves once subscribed.
   */
  subscribe(listener: AnnouncementListener): Promise<Unsubscribe>;

  // --- balances: the ledger in Postgres is the truth, these are its cache ----------------------
  /** Sets an org's balance when the store has none (fresh org, or a fresh Redis). */
  seedBalance(orgId: string, balance: Nanocredits): Promise<boolean>;
  /**
   * Adds a ledger movement to the cached balance once per `entryId`. 'no_balance' means the store
   * holds no balance for the org: seed it from the ledger instead (which includes the movement).
   */
  applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome>;
  getBalance(orgId: string): Promise<BalanceView | null>;
  /**
   * Holds `amount` for a request when balance minus holds covers it. Holds expire at
   * `deadlineMs` so a data plane that dies mid-request cannot freeze money forever.
   */
  reserve(request: Reservation): Promise<ReserveOutcome>;
  /**
   * Releases the request's hold, debits its final cost and appends its usage event. Repeating a
   * settlement for the same request id changes no balance (the usage consumer is idempotent too).
   */
  settle(event: UsageEvent): Promise<SettleOutcome>;

  // --- usage stream: appended by data planes, consumed by the control plane in batches ----------
  /** Reads up to `count` new events for this consumer, waiting at most `blockMs` for the first. */
  readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]>;
  /** Takes over events delivered to consumers that died without acknowledging them. */
  claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]>;
  ackUsage(ids: string[]): Promise<void>;

  close(): Promise<void>;
}

export interface AnnouncementListener {
  onAnnouncement(announcement: Announcement): void;
  onResync(): void;
}

export type Unsubscribe = () => Promise<void>;

export interface BalanceView {
  balance: Nanocredits;
  held: Nanocredits;
}

export interface Reservation {
  orgId: string;
  requestId: string;
  amount: Nanocredits;
  nowMs: number;
  deadlineMs: number;
}

export type ReserveOutcome =
  | { ok: true }
  | { ok: false; reason: 'insufficient_balance' | 'no_balance' | 'duplicate_request' };

export type CreditOutcome = 'applied' | 'repeat' | 'no_balance';

export type SettleOutcome = 'settled' | 'already_settled';

export interface UsageDelivery {
  /** Stream entry id, used to acknowledge. */
  id: string;
  /** The raw payload; decoding happens in the consumer so one bad entry cannot stall a batch. */
  payload: string;
}

/** How long a settled request id is remembered for idempotency. */
export const SETTLED_MEMORY_SECONDS = 7 * 24 * 3600;
