import { hostname } from 'node:os';
import { decodeUsageEvent, MAX_RECORDED_ATTEMPTS, silentLogger, type Logger, type StateStore, type UsageDelivery, type UsageEvent } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import { isDataError } from '../db/errors.ts';
import { ledgerEntries, usageRecords } from '../db/schema/index.ts';
import { USAGE_KEY_PREFIX } from './ledger.ts';

const BATCH = 100;
const BLOCK_MS = 1000;
/** Events a dead consumer held this long are taken over at start. */
const STALE_MS = 30_000;
const RETRY_MS = 2000;

export interface UsageConsumerOptions {
  db: Db;
  store: StateStore;
  logger?: Logger;
  consumerName?: string;
}

/**
 * Turns the usage stream into usage records and ledger debits. Each batch is one transaction,
 * idempotent on the request id (ON CONFLICT DO NOTHING on both tables), and is acknowledged only
 * after it commits: a crash replays the batch, and the replay adds nothing. The state store's
 * balance was already debited by the data plane at settlement, so nothing is applied there.
 */
export class UsageConsumer {
  private readonly db: Db;
  private readonly store: StateStore;
  private readonly logger: Logger;
  readonly consumerName: string;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private readonly listeners = new Set<(requestIds: string[]) => void>();

  constructor(options: UsageConsumerOptions) {
    this.db = options.db;
    this.store = options.store;
    this.logger = options.logger ?? silentLogger;
    this.consumerName = options.consumerName ?? `control-plane-${hostname()}-${process.pid}`;
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
    this.wake?.();
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

  /** Writes one batch and acknowledges it; throws (without acknowledging) on a transient failure. */
  async process(deliveries: UsageDelivery[]): Promise<void> {
    const events: UsageEvent[] = [];
    for (const delivery of deliveries) {
      try {
        events.push(decodeUsageEvent(delivery.payload));
      } catch (error) {
        // The payload is not logged: it is the data plane's, and a malformed one may hold anything.
        this.logger.error('dropping an undecodable usage event', { streamId: delivery.id, error });
      }
    }
    let written = events;
    try {
      await this.write(events);
    } catch (error) {
      if (!isDataError(error) || events.length === 0) throw error;
      // One bad event must not stall the stream: write the batch one event at a time.
      written = [];
      for (const event of events) if (await this.writeAlone(event)) written.push(event);
    }
    await this.store.ackUsage(deliveries.map((d) => d.id));
    if (written.length > 0) {
      const ids = written.map((e) => e.requestId);
      for (const listener of this.listeners) listener(ids);
    }
  }

  private async writeAlone(event: UsageEvent): Promise<boolean> {
    try {
      await this.write([event]);
      return true;
    } catch (error) {
      if (!isDataError(error)) throw error;
      // The database refuses this event for good (e.g. an org it does not know); the log keeps it.
      this.logger.error('usage event refused by the database; dropped', { event, error });
      return false;
    }
  }

  private async write(events: UsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx
        .insert(usageRecords)
        .values(events.map(usageRecordOf))
        .onConflictDoNothing({ target: usageRecords.requestId });
      // Free requests leave a usage record but no ledger entry.
      const debits = events.filter((e) => BigInt(e.cost) > 0n);
      if (debits.length === 0) return;
      await tx
        .insert(ledgerEntries)
        .values(
          debits.map((e) => ({
            orgId: e.orgId,
            amount: -BigInt(e.cost),
            // The entry's kind is what the event charged: the sell price, or the BYOK fee.
            kind: e.chargeKind === 'byok_fee' ? ('byok_fee' as const) : ('usage' as const),
            reason: e.chargeKind === 'byok_fee' ? `byok fee: ${e.model} (${e.provider ?? 'unknown provider'})` : `usage: ${e.model}`,
            idempotencyKey: `${USAGE_KEY_PREFIX}${e.requestId}`,
            requestId: e.requestId,
          })),
        )
        .onConflictDoNothing({ target: ledgerEntries.idempotencyKey });
    });
  }

  private async loop(): Promise<void> {
    let claimed = true;
    while (!this.stopping) {
      try {
        const batch = claimed
          ? await this.store.claimStaleUsage(this.consumerName, STALE_MS, BATCH)
          : await this.store.readUsage(this.consumerName, BATCH, BLOCK_MS);
        if (claimed && batch.length === 0) claimed = false;
        if (batch.length > 0) await this.processUntilDone(batch);
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn('usage stream read failed; retrying', { error });
        await this.sleep(RETRY_MS);
      }
    }
  }

  /** A delivered batch is retried until it commits: the stream will not hand it out again. */
  private async processUntilDone(batch: UsageDelivery[]): Promise<void> {
    for (;;) {
      try {
        await this.process(batch);
        return;
      } catch (error) {
        this.logger.warn('writing usage failed; retrying the batch', { error, events: batch.length });
        if (this.stopping) return; // left pending; claimed again at the next start
        await this.sleep(RETRY_MS);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** The usage record of an event: every column, token counts exact (64-bit), attempts bounded. */
function usageRecordOf(e: UsageEvent): typeof usageRecords.$inferInsert {
  return {
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
