import { hostname } from 'node:os';
import { decodeUsageEvent, MAX_RECORDED_ATTEMPTS, silentLogger, UsageEventFormatError, type Logger, type StateStore, type UsageDelivery, type UsageEvent } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { insertIgnoringConflicts } from '../db/bulk-insert.ts';
import { isDataError, sqlState } from '../db/errors.ts';
import { ledgerEntries, usageDeadLetters, usageRecords } from '../db/schema/index.ts';
import { applyUndebited } from './balances.ts';
import { USAGE_KEY_PREFIX } from './ledger.ts';

/** Events read per stream read (per shard: a read may return up to this many from each). */
export const BATCH = 1000;
const BLOCK_MS = 1000;
/** Events another consumer has held unacknowledged this long are taken over (it died or hangs). */
export const DEFAULT_CLAIM_IDLE_MS = 15_000;
const RETRY_MS = 2000;
/**
 * Batches written at once, and events in them at most (a read may bring up to BATCH from every
 * shard; past the bound the loop waits before reading more): while one batch commits, the next
 * ones are read, decoded and inserted on other connections.
 */
const PIPELINE = 4;
const MAX_EVENTS_IN_FLIGHT = PIPELINE * BATCH;
/** Rows per INSERT: a batch (up to BATCH from each shard) is written in statements of at most this many. */
const ROWS_PER_STATEMENT = 2000;
/**
 * A read that brings less than a full batch (the stream is drained) is followed by a pause of this
 * long before the next read, so the events of a steady rate go in one transaction per pause instead
 * of one per event or few: at 1,000 requests/s one at a time, the consumer and Postgres spent more
 * CPU per event than the data plane spent on the request. An event after a quiet spell is still
 * read at once, and a backlog is read in full batches without pauses. The ledger trails the Redis
 * balance (which is what admission reads) by at most this much more.
 */
const DEFAULT_GATHER_MS = 20;

export interface UsageConsumerOptions {
  db: Db;
  store: StateStore;
  logger?: Logger;
  consumerName?: string;
  /** See DEFAULT_CLAIM_IDLE_MS. Stale entries are looked for continuously, every idle/2. */
  claimIdleMs?: number;
  /** See DEFAULT_GATHER_MS: the pause after a read of less than a full batch. */
  gatherMs?: number;
}

/**
 * Turns the usage stream into usage records and ledger debits. Each batch is one transaction,
 * idempotent on the request id (ON CONFLICT DO NOTHING on both tables), and is acknowledged only
 * after it commits: a crash replays the batch, and the replay adds nothing. The state store's
 * balance was already debited by the data plane at settlement, so nothing is applied there.
 * Throughput: a batch's rows go in a few statements of one array parameter per column
 * (db/bulk-insert.ts), and several batches are written at once (loop).
 */
export class UsageConsumer {
  private readonly db: Db;
  private readonly store: StateStore;
  private readonly logger: Logger;
  readonly consumerName: string;
  private readonly claimIdleMs: number;
  private readonly gatherMs: number;
  private running: Promise<void> | null = null;
  private stopping = false;
  /** Sleeping retries and gathering pauses, woken by close(). */
  private readonly wakers = new Set<() => void>();
  /** Stream ids of the batches being written now. */
  private readonly pending = new Set<string>();
  private readonly listeners = new Set<(requestIds: string[]) => void>();

  constructor(options: UsageConsumerOptions) {
    this.db = options.db;
    this.store = options.store;
    this.logger = options.logger ?? silentLogger;
    this.consumerName = options.consumerName ?? `control-plane-${hostname()}-${process.pid}`;
    this.claimIdleMs = options.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    this.gatherMs = options.gatherMs ?? DEFAULT_GATHER_MS;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /**
   * Stops reading, then writes what is already in the stream. In embedded mode the stream lives in
   * this process, so an event left unconsumed at exit would be a debit the ledger never sees; call
   * this after the data plane has drained its settlements.
   */
  async close(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    await this.running;
    this.running = null;
    for (;;) {
      const batch = await this.store.readUsage(this.consumerName, BATCH, 0);
      if (batch.length === 0) return;
      await this.process(batch);
    }
  }

  /** Calls `listener` with the request ids of every batch once it has committed. */
  onConsumed(listener: (requestIds: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Resolves once the request's usage record is in the database (at once if it already is), for
   * callers in this process that must not read a balance before its debit lands.
   */
  async whenConsumed(requestId: string, timeoutMs = 10_000): Promise<void> {
    let stop = (): void => {};
    // Listen before looking, so a batch committing in between is not missed.
    const consumed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`usage for ${requestId} not consumed within ${timeoutMs} ms`)), timeoutMs);
      const unsubscribe = this.onConsumed((ids) => ids.includes(requestId) && stop());
      stop = () => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
    });
    const existing = await this.db.query.usageRecords.findFirst({ columns: { requestId: true }, where: { requestId } });
    if (existing) stop();
    return consumed;
  }

  /**
   * Writes one batch and acknowledges it; throws (without acknowledging) on a transient failure.
   * Nothing is dropped: an entry that cannot be decoded, or an event the database refuses, goes
   * whole to the dead-letter table (usage_dead_letters) with the reason.
   */
  async process(deliveries: UsageDelivery[]): Promise<void> {
    const events: { delivery: UsageDelivery; event: UsageEvent }[] = [];
    const dead: DeadLetter[] = [];
    for (const delivery of deliveries) {
      try {
        events.push({ delivery, event: decodeUsageEvent(delivery.payload) });
      } catch (error) {
        dead.push(deadLetter(delivery, null, error));
      }
    }
    let written = events;
    try {
      await this.write(events);
    } catch (error) {
      if (!isDataError(error) || events.length === 0) throw error;
      // One bad event must not stall the stream: write the batch one event at a time.
      written = [];
      for (const item of events) {
        const refused = await this.writeAlone(item);
        if (refused) dead.push(deadLetter(item.delivery, item.event, refused));
        else written.push(item);
      }
    }
    if (dead.length > 0) await this.deadLetters(dead);
    // Events settled while the store held no balance: their debit reaches it now, once.
    const undebited = new Map<string, string[]>();
    for (const { delivery, event } of written) {
      if (delivery.storeDebited || BigInt(event.cost) === 0n) continue;
      undebited.set(event.orgId, [...(undebited.get(event.orgId) ?? []), event.requestId]);
    }
    for (const [orgId, requestIds] of undebited) await applyUndebited(this.db, this.store, orgId, requestIds);
    await this.store.ackUsage(deliveries.map((d) => d.id));
    if (written.length > 0) {
      const ids = written.map((e) => e.event.requestId);
      for (const listener of this.listeners) listener(ids);
    }
  }

  /** Null when written; else the database's refusal. */
  private async writeAlone(item: { delivery: UsageDelivery; event: UsageEvent }): Promise<unknown> {
    try {
      await this.write([item]);
      return null;
    } catch (error) {
      if (!isDataError(error)) throw error;
      return error;
    }
  }

  private async deadLetters(letters: DeadLetter[]): Promise<void> {
    await this.db.insert(usageDeadLetters).values(letters).onConflictDoNothing({ target: usageDeadLetters.streamId });
    for (const letter of letters) {
      // The payload is not logged: it is the data plane's, and a malformed one may hold anything.
      this.logger.error('usage event kept in the dead-letter table', { streamId: letter.streamId, requestId: letter.requestId, orgId: letter.orgId, reason: letter.error });
    }
  }

  private async write(items: { delivery: UsageDelivery; event: UsageEvent }[]): Promise<void> {
    if (items.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let from = 0; from < items.length; from += ROWS_PER_STATEMENT) {
        const chunk = items.slice(from, from + ROWS_PER_STATEMENT);
        const records = chunk.map(({ delivery, event }) => usageRecordOf(event, delivery.storeDebited || BigInt(event.cost) === 0n));
        await tx.execute(insertIgnoringConflicts(usageRecords, records, { conflict: usageRecords.requestId, orderBy: usageRecords.requestId }));
      }
      // Free requests leave a usage record but no ledger entry.
      const debits = items.filter((i) => BigInt(i.event.cost) > 0n).map((i) => ledgerDebitOf(i.event));
      if (debits.length === 0) return;
      // Ledger inserts of concurrent batches (this consumer's pipeline, other consumers) take turns
      // until commit: the balance trigger locks the orgs' balance rows in an order of its own, and
      // two statements locking several orgs at once could deadlock.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('tg-usage-ledger'))`);
      for (let from = 0; from < debits.length; from += ROWS_PER_STATEMENT) {
        const chunk = debits.slice(from, from + ROWS_PER_STATEMENT);
        await tx.execute(insertIgnoringConflicts(ledgerEntries, chunk, { conflict: ledgerEntries.idempotencyKey, orderBy: ledgerEntries.idempotencyKey }));
      }
    });
  }

  /**
   * Reads new events (pausing once drained, see DEFAULT_GATHER_MS), and every claimIdle/2 takes
   * over entries another consumer has held longer than claimIdle (it died, or hangs):
   * continuously, so several consumers can run and a restart within the idle time loses nothing
   * either. Up to PIPELINE batches are written at once, each acknowledged after its own commit, in
   * whatever order they finish: writing is idempotent on the request id, so the order does not
   * matter, and a crash leaves only unacknowledged batches, which are written again (adding
   * nothing) when claimed.
   */
  private async loop(): Promise<void> {
    let nextClaim = 0;
    const inFlight = new Set<Promise<void>>();
    let eventsInFlight = 0;
    const dispatch = (batch: UsageDelivery[]): void => {
      eventsInFlight += batch.length;
      const done: Promise<void> = this.processUntilDone(batch).finally(() => {
        inFlight.delete(done);
        eventsInFlight -= batch.length;
      });
      inFlight.add(done);
    };
    while (!this.stopping) {
      try {
        if (inFlight.size >= PIPELINE || eventsInFlight >= MAX_EVENTS_IN_FLIGHT) {
          await Promise.race(inFlight);
          continue;
        }
        if (Date.now() >= nextClaim) {
          const stale = await this.store.claimStaleUsage(this.consumerName, this.claimIdleMs, BATCH);
          // A batch of this consumer's own still being retried is not taken twice.
          const others = stale.filter((d) => !this.pending.has(d.id));
          if (others.length > 0) dispatch(others);
          if (stale.length < BATCH) nextClaim = Date.now() + this.claimIdleMs / 2;
          continue;
        }
        const batch = await this.store.readUsage(this.consumerName, BATCH, Math.min(BLOCK_MS, Math.max(1, nextClaim - Date.now())));
        if (batch.length === 0) continue;
        dispatch(batch);
        // Drained: let the next events gather (close() cuts the pause short).
        if (batch.length < BATCH && this.gatherMs > 0) await this.sleep(this.gatherMs);
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn('usage stream read failed; retrying', { error });
        await this.sleep(RETRY_MS);
      }
    }
    await Promise.all(inFlight);
  }

  /** A delivered batch is retried until it commits: the stream will not hand it out again. */
  private async processUntilDone(batch: UsageDelivery[]): Promise<void> {
    for (const d of batch) this.pending.add(d.id);
    try {
      for (;;) {
        try {
          await this.process(batch);
          return;
        } catch (error) {
          this.logger.warn('writing usage failed; retrying the batch', { error, events: batch.length });
          if (this.stopping) return; // left pending; another consumer (or the next start) claims it
          await this.sleep(RETRY_MS);
        }
      }
    } finally {
      for (const d of batch) this.pending.delete(d.id);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}

/** The ledger debit of a consumed event, idempotent on its request id. */
function ledgerDebitOf(e: UsageEvent): typeof ledgerEntries.$inferInsert {
  return {
    orgId: e.orgId,
    amount: -BigInt(e.cost),
    // The entry's kind is what the event charged: the sell price, or the BYOK fee.
    kind: e.chargeKind === 'byok_fee' ? 'byok_fee' : 'usage',
    reason: e.chargeKind === 'byok_fee' ? `byok fee: ${e.model} (${e.provider ?? 'unknown provider'})` : `usage: ${e.model}`,
    idempotencyKey: `${USAGE_KEY_PREFIX}${e.requestId}`,
    requestId: e.requestId,
  };
}

/** The usage record of an event: every column, token counts exact (64-bit), attempts bounded. */
function usageRecordOf(e: UsageEvent, storeDebited: boolean): typeof usageRecords.$inferInsert {
  return {
    storeDebited,
    requestId: e.requestId,
    // Absent from events of data planes older than the field.
    clientRequestId: e.clientRequestId ?? null,
    orgId: e.orgId,
    apiKeyId: e.keyId,
    model: e.model,
    tier: e.tier,
    lane: e.lane,
    provider: e.provider,
    channelId: e.channelId,
    byokCredentialId: e.byokCredentialId,
    upstreamModel: e.upstreamModel,
    endpoint: e.endpoint,
    stream: e.stream,
    inputTokens: e.usage.input,
    cachedInputTokens: e.usage.cachedInput,
    cacheWriteTokens: e.usage.cacheWrite,
    outputTokens: e.usage.output,
    reasoningTokens: e.usage.reasoning,
    images: e.images ?? null,
    usageSource: e.usageSource,
    chargeKind: e.chargeKind,
    cost: BigInt(e.cost),
    providerCost: BigInt(e.providerCost),
    hold: BigInt(e.hold),
    overHold: e.overHold,
    attempts: e.attempts.slice(0, MAX_RECORDED_ATTEMPTS),
    status: e.status,
    httpStatus: e.httpStatus,
    errorCode: e.errorCode,
    latencyMs: Math.max(0, Math.round(e.latencyMs)),
    startedAt: new Date(e.startedAt),
  };
}

type DeadLetter = typeof usageDeadLetters.$inferInsert;

/** A stream entry as the dead-letter table keeps it: whole, with what could be read of it and why. */
function deadLetter(delivery: UsageDelivery, event: UsageEvent | null, error: unknown): DeadLetter {
  let probe: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(delivery.payload) as unknown;
    if (parsed && typeof parsed === 'object') probe = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: kept as text.
  }
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length <= 200 ? v : null);
  const cost = event?.cost ?? (typeof probe.cost === 'string' && /^\d{1,19}$/.test(probe.cost) && BigInt(probe.cost) < 2n ** 63n ? probe.cost : null);
  return {
    streamId: delivery.id,
    requestId: event?.requestId ?? str(probe.requestId),
    orgId: event?.orgId ?? str(probe.orgId),
    cost: cost === null ? null : BigInt(cost),
    storeDebited: delivery.storeDebited ? 'true' : 'false',
    payload: delivery.payload,
    error: describeRefusal(error),
  };
}

/** The reason, without values: a database error names the column or constraint, never the data. */
function describeRefusal(error: unknown): string {
  if (error instanceof UsageEventFormatError) return error.message;
  const state = sqlState(error);
  const constraint = (error as { cause?: { constraint?: unknown } })?.cause?.constraint ?? (error as { constraint?: unknown })?.constraint;
  return `refused by the database (SQLSTATE ${state ?? 'unknown'}${typeof constraint === 'string' ? `, ${constraint}` : ''})`;
}
