import type { Logger, Settlement, StateStore, UsageEvent } from '@tollgate/shared';

/** Backoff between attempts of one settlement: quick at first, then every 5 s until the store is back. */
const RETRY_DELAYS_MS = [50, 200, 1_000, 2_000, 5_000];

/**
 * Settles requests off the response path: the client is not kept waiting for the store, but no
 * settlement is ever dropped. A failed one is retried until it lands (settling is idempotent per
 * request id), with capped backoff, while the store is down too: the buffer is bounded by refusing
 * new local admissions past `maxBuffered` (metering/admission.ts), not by forgetting money.
 * Closing waits for every settlement up to a bound; one still unwritten then (the store is gone
 * for good) is logged whole, at error level, for `tollgate reconcile` to replay.
 */
/**
 * How long, and how many, settled events are kept to be appended again if the store loses its data:
 * the consumer normally takes an event within milliseconds, so a minute covers its lag many times.
 */
export interface JournalSettings {
  windowMs: number;
  maxEvents: number;
}

export const DEFAULT_JOURNAL: JournalSettings = { windowMs: 60_000, maxEvents: 50_000 };

export class Settlements {
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  /** Events settled recently, oldest first, with when: replayed after a store reset. */
  private journal: { at: number; event: UsageEvent }[] = [];
  private journalStart = 0;
  /** Prunes the journal while no settlement does: after a burst, its events go when the window passes. */
  private readonly pruner: NodeJS.Timeout | null;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    readonly maxBuffered = 100_000,
    private readonly journalSettings: JournalSettings = DEFAULT_JOURNAL,
  ) {
    this.pruner = journalSettings.maxEvents > 0 ? setInterval(() => this.prune(Date.now()), Math.max(1_000, journalSettings.windowMs / 10)).unref() : null;
  }

  /** Events settled within the journal's window (the most recent `maxEvents`). */
  recent(nowMs = Date.now()): UsageEvent[] {
    this.prune(nowMs);
    return this.journal.slice(this.journalStart).map((j) => j.event);
  }

  /** Events the journal holds now, as they are (no pruning on reading). */
  get journaled(): number {
    return this.journal.length - this.journalStart;
  }

  private remember(event: UsageEvent): void {
    const now = Date.now();
    this.journal.push({ at: now, event });
    this.prune(now);
  }

  private prune(nowMs: number): void {
    const { windowMs, maxEvents } = this.journalSettings;
    while (this.journalStart < this.journal.length && (this.journal.length - this.journalStart > maxEvents || this.journal[this.journalStart]!.at < nowMs - windowMs)) this.journalStart++;
    // Compact now and then, so dropping the oldest stays O(1) amortised; an emptied journal at once.
    if (this.journalStart === this.journal.length || (this.journalStart > 1_024 && this.journalStart * 2 > this.journal.length)) {
      this.journal = this.journal.slice(this.journalStart);
      this.journalStart = 0;
    }
  }

  /**
   * After the store lost its data, appends again every event settled within the journal window:
   * those the lost stream still held would otherwise never reach the ledger. The consumer is
   * idempotent on the request id, so events it had already written add nothing.
   */
  async replayRecent(): Promise<number> {
    const events = this.recent();
    if (events.length > 0) await this.store.replayUsage(events);
    return events.length;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  settle(settlement: Settlement): void {
    const task = this.attempt(settlement).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async attempt(settlement: Settlement): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.settle(settlement);
        this.remember(settlement.event);
        if (attempt > 0) this.logger.info('settlement written after retries', { requestId: settlement.event.requestId, attempts: attempt + 1 });
        return;
      } catch (error) {
        if (this.closing) {
          this.logger.error('settlement not written before shutdown; usage event kept in this log line for replay', {
            error, usageEvent: settlement.event, consumption: settlement.consumption,
          });
          return;
        }
        if (attempt === 0) this.logger.warn('settlement failed; retrying until the store takes it', { requestId: settlement.event.requestId, error });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]));
      }
    }
  }

  /** Waits for every settlement; past `timeoutMs`, the unwritten ones are logged for replay. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, Math.max(1, deadline - Date.now())))]);
    }
    this.closing = true;
    if (this.pruner) clearInterval(this.pruner);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
