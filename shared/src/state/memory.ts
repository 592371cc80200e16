import { type Nanocredits } from '../money.ts';
import {
  encodeByokRecord,
  encodeKeyRecord,
  encodeRouteTable,
  type Announcement,
  type ByokRecord,
  type KeyRecord,
  type RouteTable,
} from '../snapshot.ts';
import { decodeByokRecord, decodeKeyRecord, decodeRouteTable } from '../snapshot-decode.ts';
import { encodeUsageEvent, type UsageEvent } from '../usage.ts';
import { assertCounterName } from './keys.ts';
import { MemoryUsageStream } from './memory-usage.ts';
import { CREDITED_MEMORY_SECONDS } from './port.ts';
import { assertReservation, assertSettlement } from './validate.ts';
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

interface Hold {
  amount: Nanocredits;
  /** Counters to give back at settlement or expiry, and by how much. */
  releases: [counter: string, amount: number][];
  deadlineMs: number;
}

interface Counter {
  value: number;
  /** Epoch ms, or null for none (as a Redis key without TTL). */
  expiresAt: number | null;
}

interface OrgState {
  /** Null when the store holds no balance for the org (as a missing Redis key). */
  balance: Nanocredits | null;
  held: Nanocredits;
  holds: Map<string, Hold>;
  /** Settled request ids (as Redis's settled markers): true when the balance was debited. */
  settled: Markers<boolean>;
  credited: Markers<true>;
  counters: Map<string, Counter>;
}

/**
 * Markers remembered for a while, as Redis keys with a TTL: every marker of a set has the same
 * lifetime, so insertion order is expiry order and the oldest are dropped as new ones arrive.
 */
class Markers<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  get(id: string, nowMs = Date.now()): T | undefined {
    const entry = this.entries.get(id);
    return entry && entry.expiresAt > nowMs ? entry.value : undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  set(id: string, value: T, nowMs = Date.now()): void {
    for (const [oldest, entry] of this.entries) {
      if (entry.expiresAt > nowMs) break;
      this.entries.delete(oldest);
    }
    this.entries.delete(id);
    this.entries.set(id, { value, expiresAt: nowMs + this.ttlMs });
  }
}

/**
 * How long the in-process store remembers a settled request id: ten minutes, not Redis's seven
 * days. A marker refuses a second settlement of one request; across processes one can come late (a
 * data plane cut off from Redis retries while another settles its requests as orphans), but in one
 * process none can: a settlement is never retried against this store, and no other instance settles
 * this one's requests. Kept as long as Redis keeps them, one marker per request grew the heap
 * without bound under sustained traffic (about 120 B each: 60 million a week at 100 requests/s).
 */
export const MEMORY_SETTLED_MS = 10 * 60_000;

/**
 * In-process adapter for embedded mode, where both planes share one process. It keeps the Redis
 * adapter's semantics exactly (the same contract suite runs against both); every operation is
 * synchronous inside, so each is atomic in the one JavaScript thread. Snapshots are stored
 * encoded, so a reader never shares mutable objects with the writer. Limits are the same
 * `CounterCheck` definitions the Lua script interprets, read by one generic loop here.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly keyRecords = new Map<string, string>();
  private readonly byokRecords = new Map<string, string>();
  private routes: string | null = null;
  private routesVersion = -1;
  private readonly listeners = new Set<AnnouncementListener>();
  private readonly orgs = new Map<string, OrgState>();
  private readonly breakers = new Map<string, BreakerState & { probeUntil: number }>();
  private readonly affinity = new Map<string, { value: string; expiresAt: number }>();
  private readonly usage = new MemoryUsageStream();
  private readonly settledMemoryMs: number;
  /** Requests admitted and not settled yet, by id: the instance serving each and its orphan event. */
  private readonly intents = new Map<string, { instance: string; orphan: UsageEvent }>();
  private readonly instances = new Map<string, number>();
  private readonly janitorLocks = new Map<string, number>();
  private epoch: string | null = null;

  /** `settledMemoryMs`: how long a settled request id is remembered (see MEMORY_SETTLED_MS). */
  constructor(options: { settledMemoryMs?: number } = {}) {
    this.settledMemoryMs = options.settledMemoryMs ?? MEMORY_SETTLED_MS;
  }

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
    this.routes = encodeRouteTable(table);
    this.routesVersion = table.version;
    this.announce({ kind: 'routes', version: table.version });
  }

  async getRouteTable(onSkip?: RouteTableSkipListener): Promise<RouteTable | null> {
    return this.routes === null ? null : decodeRouteTable(this.routes, onSkip);
  }

  async putByokRecord(orgId: string, provider: string, record: ByokRecord | null): Promise<void> {
    const key = `${orgId}\0${provider}`;
    if (record) this.byokRecords.set(key, encodeByokRecord(record));
    else this.byokRecords.delete(key);
    this.announce({ kind: 'byok', orgId, provider });
  }

  async getByokRecord(orgId: string, provider: string): Promise<ByokRecord | null> {
    const text = this.byokRecords.get(`${orgId}\0${provider}`);
    return text === undefined ? null : decodeByokRecord(text);
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

  async seedBalance(orgId: string, balance: Nanocredits, included: readonly IncludedDebit[] = []): Promise<boolean> {
    const org = this.orgs.get(orgId) ?? this.emptyOrg(orgId);
    const seeded = org.balance === null;
    if (seeded) org.balance = balance;
    for (const debit of included) {
      if (org.settled.get(debit.requestId) === true) continue;
      if (!seeded) org.balance! -= debit.cost;
      org.settled.set(debit.requestId, true);
    }
    return seeded;
  }

  async debitOnce(orgId: string, requestId: string, cost: Nanocredits): Promise<DebitOutcome> {
    const org = this.orgs.get(orgId);
    if (org?.settled.get(requestId) === true) return 'repeat';
    if (!org || org.balance === null) return 'no_balance';
    org.balance -= cost;
    org.settled.set(requestId, true);
    return 'applied';
  }

  async adjustBalance(orgId: string, delta: Nanocredits): Promise<boolean> {
    const org = this.orgs.get(orgId);
    if (!org || org.balance === null) return false;
    org.balance += delta;
    return true;
  }

  async getCounters(orgId: string, counters: readonly string[]): Promise<Record<string, number>> {
    const org = this.orgs.get(orgId);
    const now = Date.now();
    return Object.fromEntries(counters.map((name) => [name, org ? this.liveCounter(org, name, now)?.value ?? 0 : 0]));
  }

  async seedCounters(orgId: string, counters: readonly CounterSeed[], mode: 'nx' | 'set'): Promise<number> {
    for (const c of counters) assertCounterName(c.counter);
    const org = this.orgs.get(orgId) ?? this.emptyOrg(orgId);
    const now = Date.now();
    let written = 0;
    for (const c of counters) {
      if (mode === 'nx' && this.liveCounter(org, c.counter, now) !== undefined) continue;
      org.counters.set(c.counter, { value: Math.max(0, Math.floor(c.value)), expiresAt: c.ttlSeconds === null ? null : now + c.ttlSeconds * 1000 });
      written++;
    }
    return written;
  }

  private liveCounter(org: OrgState, name: string, nowMs: number): Counter | undefined {
    const counter = org.counters.get(name);
    return counter && (counter.expiresAt === null || counter.expiresAt > nowMs) ? counter : undefined;
  }

  async applyCredit(orgId: string, entryId: string, amount: Nanocredits): Promise<CreditOutcome> {
    const org = this.orgs.get(orgId);
    if (org?.credited.has(entryId)) return 'repeat';
    if (!org || org.balance === null) return 'no_balance';
    org.credited.set(entryId, true);
    org.balance += amount;
    return 'applied';
  }

  async getBalance(orgId: string): Promise<BalanceView | null> {
    const org = this.orgs.get(orgId);
    return org && org.balance !== null ? { balance: org.balance, held: org.held } : null;
  }

  private counter(org: OrgState, name: string, nowMs: number): Counter {
    let counter = org.counters.get(name);
    if (counter && counter.expiresAt !== null && counter.expiresAt <= nowMs) counter = undefined;
    if (!counter) {
      counter = { value: 0, expiresAt: null };
      org.counters.set(name, counter);
    }
    return counter;
  }

  private releaseHold(org: OrgState, hold: Hold): void {
    org.held -= hold.amount;
    for (const [name, amount] of hold.releases) {
      const counter = org.counters.get(name);
      if (counter) counter.value -= amount;
    }
  }

  async reserve(r: Reservation): Promise<ReserveOutcome> {
    assertReservation(r);
    const org = this.orgs.get(r.orgId);
    if (!org || org.balance === null) return { ok: false, reason: 'no_balance' };
    for (const [id, hold] of org.holds) {
      if (hold.deadlineMs <= r.nowMs) {
        this.releaseHold(org, hold);
        org.holds.delete(id);
      }
    }
    if (org.holds.has(r.requestId)) return { ok: false, reason: 'duplicate_request' };
    for (const check of r.checks) {
      const current = this.counter(org, check.counter, r.nowMs).value;
      if ((check.add > 0 && current + check.add > check.limit) || (check.add === 0 && current >= check.limit)) {
        return { ok: false, reason: 'check_failed', check: check.name };
      }
    }
    if (org.balance + r.overdraft < org.held + r.amount) return { ok: false, reason: 'insufficient_balance' };
    org.held += r.amount;
    const counters: Record<string, number> = {};
    const releases: Hold['releases'] = [];
    for (const check of r.checks) {
      const counter = this.counter(org, check.counter, r.nowMs);
      if (check.add > 0) {
        counter.value += check.add;
        if (check.ttlSeconds !== null && counter.expiresAt === null) counter.expiresAt = r.nowMs + check.ttlSeconds * 1000;
        if (check.release) releases.push([check.counter, check.add]);
      }
      counters[check.counter] = counter.value;
    }
    org.holds.set(r.requestId, { amount: r.amount, releases, deadlineMs: r.deadlineMs });
    this.intents.set(r.requestId, { instance: r.instance, orphan: r.orphan });
    return { ok: true, available: org.balance + r.overdraft - org.held, counters };
  }

  async settle({ event, consumption, eventText }: Settlement): Promise<SettleOutcome> {
    assertSettlement({ event, consumption });
    const org = this.orgs.get(event.orgId) ?? this.emptyOrg(event.orgId);
    if (org.settled.has(event.requestId)) return 'already_settled';
    // Without a balance (not seeded yet) the counters are left to the seed, as in Redis.
    if (!this.settleOne(org, event, eventText ?? encodeUsageEvent(event))) return 'settled';
    const now = Date.now();
    for (const c of consumption) {
      if (c.amount <= 0) continue;
      const counter = this.counter(org, c.counter, now);
      counter.value += c.amount;
      if (c.ttlSeconds !== null && counter.expiresAt === null) counter.expiresAt = now + c.ttlSeconds * 1000;
    }
    return 'settled';
  }

  /** Release, forget the intent, debit (never creating a missing balance), append, remember. */
  private settleOne(org: OrgState, event: UsageEvent, eventText: string): boolean {
    const hold = org.holds.get(event.requestId);
    if (hold) {
      this.releaseHold(org, hold);
      org.holds.delete(event.requestId);
    }
    this.intents.delete(event.requestId);
    const debited = org.balance !== null;
    if (org.balance !== null) org.balance -= BigInt(event.cost);
    this.usage.append(eventText, debited);
    org.settled.set(event.requestId, debited);
    return debited;
  }

  async heartbeat(instance: string, nowMs: number): Promise<void> {
    this.instances.set(instance, nowMs);
  }

  async staleInstances(beforeMs: number): Promise<string[]> {
    return [...this.instances].filter(([, at]) => at < beforeMs).map(([instance]) => instance);
  }

  async settleOrphans(instance: string, lockMs: number): Promise<number> {
    const now = Date.now();
    if ((this.janitorLocks.get(instance) ?? 0) > now) return 0;
    this.janitorLocks.set(instance, now + lockMs);
    let settled = 0;
    for (const [requestId, intent] of [...this.intents]) {
      if (intent.instance !== instance) continue;
      this.intents.delete(requestId);
      const org = this.orgs.get(intent.orphan.orgId) ?? this.emptyOrg(intent.orphan.orgId);
      if (org.settled.has(requestId)) continue;
      this.settleOne(org, intent.orphan, encodeUsageEvent(intent.orphan));
      settled++;
    }
    this.instances.delete(instance);
    return settled;
  }

  async getEpoch(): Promise<string | null> {
    return this.epoch;
  }

  async setEpoch(epoch: string): Promise<void> {
    this.epoch = epoch;
  }

  private emptyOrgState(): OrgState {
    return { balance: null, held: 0n, holds: new Map(), settled: new Markers(this.settledMemoryMs), credited: new Markers(CREDITED_MEMORY_SECONDS * 1000), counters: new Map() };
  }

  private emptyOrg(orgId: string): OrgState {
    const org = this.emptyOrgState();
    this.orgs.set(orgId, org);
    return org;
  }

  async breakerFailure(channelId: string, policy: BreakerPolicy): Promise<BreakerState> {
    const state = this.breakers.get(channelId) ?? { openUntil: 0, failures: 0, probeUntil: 0 };
    state.failures += 1;
    if ((state.openUntil > 0 && state.openUntil <= policy.nowMs) || (state.openUntil === 0 && state.failures >= policy.threshold)) {
      state.openUntil = policy.nowMs + policy.coolDownMs;
      state.probeUntil = 0;
      this.announce({ kind: 'breaker', channelId });
    }
    this.breakers.set(channelId, state);
    return { openUntil: state.openUntil, failures: state.failures };
  }

  async breakerSuccess(channelId: string): Promise<void> {
    const state = this.breakers.get(channelId);
    this.breakers.delete(channelId);
    if (state && state.openUntil > 0) this.announce({ kind: 'breaker', channelId });
  }

  async getBreaker(channelId: string): Promise<BreakerState> {
    const state = this.breakers.get(channelId);
    return { openUntil: state?.openUntil ?? 0, failures: state?.failures ?? 0 };
  }

  async breakerTryProbe(channelId: string, nowMs: number, ttlMs: number): Promise<boolean> {
    const state = this.breakers.get(channelId);
    if (!state || state.openUntil === 0) return true;
    if (state.openUntil > nowMs || state.probeUntil > nowMs) return false;
    state.probeUntil = nowMs + ttlMs;
    return true;
  }

  async getAffinity(key: string): Promise<string | null> {
    const entry = this.affinity.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.affinity.delete(key);
      return null;
    }
    return entry.value;
  }

  async setAffinity(key: string, value: string, ttlMs: number): Promise<void> {
    // Bounded like Redis with an eviction policy would be: the oldest entries go first.
    if (this.affinity.size >= 100_000) {
      const oldest = this.affinity.keys().next();
      if (!oldest.done) this.affinity.delete(oldest.value);
    }
    this.affinity.delete(key);
    this.affinity.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  readUsage(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    return this.usage.read(consumer, count, blockMs);
  }

  claimStaleUsage(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    return this.usage.claimStale(consumer, minIdleMs, count);
  }

  replayUsage(events: readonly UsageEvent[]): Promise<void> {
    for (const event of events) this.usage.append(encodeUsageEvent(event), false);
    return Promise.resolve();
  }

  unconsumedUsage(limit: number): Promise<UsageDelivery[]> {
    return this.usage.unconsumed(limit);
  }

  ackUsage(ids: string[]): Promise<void> {
    this.usage.ack(ids);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.usage.close();
    this.listeners.clear();
  }
}
