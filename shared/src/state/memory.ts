import { type Nanocredits } from '../money.ts';
import { decodeKeyRecord, encodeKeyRecord, type Announcement, type KeyRecord, type RouteTable } from '../snapshot.ts';
import { encodeUsageEvent, type UsageEvent } from '../usage.ts';
import type {
  AnnouncementListener,
  BalanceView,
  CreditOutcome,
  Reservation,
  ReserveOutcome,
  SettleOutcome,
  StateStore,
  Unsubscribe,
  UsageDelivery,
} from './port.ts';

interface OrgState {
  balance: Nanocredits;
  held: Nanocredits;
  holds: Map<string, { amount: Nanocredits; deadlineMs: number }>;
  settled: Set<string>;
  credited: Set<string>;
}

interface StreamEntry {
  id: string;
  payload: string;
  /** Consumer holding the entry and when it was delivered; unset while undelivered. */
  owner?: string;
  deliveredAt?: number;
}

/**
 * In-process adapter for embedded mode, where both planes share one process. It keeps the Redis
 * adapter's semantics exactly (the same contract suite runs against both); every operation is
 * synchronous inside, so each is atomic in the one JavaScript thread. Snapshots are stored
 * encoded, so a reader never shares mutable objects with the writer.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly keyRecords = new Map<string, string>();
  private routes: string | null = null;
  private routesVersion = -1;
  private readonly listeners = new Set<AnnouncementListener>();
  private readonly orgs = new Map<string, OrgState>();
  private readonly stream: StreamEntry[] = [];
  private sequence = 0;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  async putKeyRecord(hash: string, record: KeyRecord | null): Promise<void> {
    if (record) this.keyRecords.set(hash, encodeKeyRecord(record));
    else this.keyRecords.delete(hash);
    this.announce({ kind: 'key', hash });
  }

  async getKeyRecord(hash: string): Promise<KeyRecord | null> {
    const text = this.keyRecords.get(hash);
    return text === undefined ? null : decodeKeyRecord(text);
  }

  async putRouteTable(table: RouteTable): Promise<void> {
    if (table.version < this.routesVersion) return;
    this.routes = JSON.stringify(table);
    this.routesVersion = table.version;
    this.announce({ kind: 'routes', version: table.version });
  }

  async getRouteTable(): Promise<RouteTable | null> {
    return this.routes === null ? null : (JSON.parse(this.routes) as RouteTable);
  }

  async subscribe(listener: AnnouncementListener): Promise<Unsubscribe> {
    this.listeners.add(listener);
    return async () => {
      this.listeners.delete(listener);
    };
  }

  private announce(announcement: Announcement): void {
    // Delivered after the current call returns, as pub/sub delivers after the write.
    queueMicrotask(() => {
      for (const listener of this.listeners) listener.onAnnouncement(announcement);
    });
  }

  async seedBalance(orgId: string, balance: Nanocredits): Promise<boolean> {
    if (this.orgs.has(orgId)) return false;
    this.orgs.set(orgId, { balance, held: 0n, holds: new Map(), settled: new Set(), credited: new Set() });
    return true;
  }

  async applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome> {
    const org = this.orgs.get(orgId);
    if (!org) return 'no_balance';
    if (org.credited.has(entryId)) return 'repeat';
    org.credited.add(entryId);
    org.balance += amount;
    return 'applied';
  }

  async getBalance(orgId: string): Promise<BalanceView | null> {
    const org = this.orgs.get(orgId);
    return org ? { balance: org.balance, held: org.held } : null;
  }

  async reserve(r: Reservation): Promise<ReserveOutcome> {
    const org = this.orgs.get(r.orgId);
    if (!org) return { ok: false, reason: 'no_balance' };
    for (const [id, hold] of org.holds) {
      if (hold.deadlineMs <= r.nowMs) {
        org.held -= hold.amount;
        org.holds.delete(id);
      }
    }
    if (org.holds.has(r.requestId)) return { ok: false, reason: 'duplicate_request' };
    if (org.balance < org.held + r.amount) return { ok: false, reason: 'insufficient_balance' };
    org.held += r.amount;
    org.holds.set(r.requestId, { amount: r.amount, deadlineMs: r.deadlineMs });
    return { ok: true };
  }

  async settle(event: UsageEvent): Promise<SettleOutcome> {
    const payload = encodeUsageEvent(event);
    this.append(payload);
    const org = this.orgs.get(event.orgId) ?? this.emptyOrg(event.orgId);
    if (org.settled.has(event.requestId)) return 'already_settled';
    const hold = org.holds.get(event.requestId);
    if (hold) {
      org.held -= hold.amount;
      org.holds.delete(event.requestId);
    }
    org.balance -= BigInt(event.cost);
    org.settled.add(event.requestId);
    return 'settled';
  }

  private emptyOrg(orgId: string): OrgState {
    // Redis DECRBY on a missing key starts from zero; match it.
    const org: OrgState = { balance: 0n, held: 0n, holds: new Map(), settled: new Set(), credited: new Set() };
    this.orgs.set(orgId, org);
    return org;
  }

  private append(payload: string): void {
    this.stream.push({ id: `${Date.now()}-${this.sequence++}`, payload });
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    const batch = this.takeNew(consumer, count);
    if (batch.length > 0 || blockMs <= 0 || this.closed) return batch;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve();
      }, blockMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(wake);
    });
    return this.takeNew(consumer, count);
  }

  private takeNew(consumer: string, count: number): UsageDelivery[] {
    const out: UsageDelivery[] = [];
    const now = Date.now();
    for (const entry of this.stream) {
      if (out.length >= count) break;
      if (entry.owner !== undefined) continue;
      entry.owner = consumer;
      entry.deliveredAt = now;
      out.push({ id: entry.id, payload: entry.payload });
    }
    return out;
  }

  async claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    const out: UsageDelivery[] = [];
    const now = Date.now();
    for (const entry of this.stream) {
      if (out.length >= count) break;
      if (entry.deliveredAt === undefined || now - entry.deliveredAt < minIdleMs) continue;
      entry.owner = consumer;
      entry.deliveredAt = now;
      out.push({ id: entry.id, payload: entry.payload });
    }
    return out;
  }

  async ackUsage(ids: string[]): Promise<void> {
    const acked = new Set(ids);
    for (let i = this.stream.length - 1; i >= 0; i--) {
      if (acked.has(this.stream[i]!.id)) this.stream.splice(i, 1);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    this.listeners.clear();
  }
}
