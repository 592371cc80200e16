import { encodeUsageEvent, type Logger, type Settlement, type StateStore, type UsageEvent } from '@tollgate/shared';
import { DEFAULT_JOURNAL, SettlementJournal, type JournalSettings } from './journal.ts';

/** Backoff between attempts of one settlement: quick at first, then every 5 s until the store is back. */
const RETRY_DELAYS_MS = [50, 200, 1_000, 2_000, 5_000];

/**
 * Settles requests off the response path: the client is not kept waiting for the store, but no
 * settlement is ever dropped. A failed one is retried until it lands (settling is idempotent per
 * request id), with capped backoff, while the store is down too: the buffer is bounded by refusing
 * new local admissions past `maxBuffered` (metering/admission.ts), not by forgetting money.
 * Closing waits for every settlement up to a bound; one still unwritten then (the store is gone
 * for good) is logged whole, at error level. Its intent stays in the store, so the request is still
 * billed, at its input estimate as an orphan, by whichever data plane sweeps this one's intents
 * once the store is back; the log line keeps its exact usage for an operator.
 */
export class Settlements {
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  /** Events settled recently: replayed after a store reset. */
  private readonly journal: SettlementJournal;
  /** Prunes the journal while no settlement does: after a burst, its events go when the window passes. */
  private readonly pruner: NodeJS.Timeout | null;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    readonly maxBuffered = 100_000,
    journalSettings: JournalSettings = DEFAULT_JOURNAL,
  ) {
    this.journal = new SettlementJournal(journalSettings);
    this.pruner = journalSettings.maxEvents > 0 ? setInterval(() => this.journal.prune(Date.now()), Math.max(1_000, journalSettings.windowMs / 10)).unref() : null;
  }

  /** Events settled within the journal's window (the most recent `maxEvents`). */
  recent(nowMs = Date.now()): UsageEvent[] {
    return this.journal.events(nowMs);
  }

  /** Events the journal holds now, as they are (no pruning on reading). */
  get journaled(): number {
    return this.journal.size;
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

  private async attempt({ event, consumption, eventText }: Settlement): Promise<void> {
    // Encoded once, for the store's stream entry and for the journal.
    const text = eventText ?? encodeUsageEvent(event);
    const settlement: Settlement = { event, consumption, eventText: text };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.settle(settlement);
        this.journal.add(text, Date.now());
        if (attempt > 0) this.logger.info('settlement written after retries', { requestId: event.requestId, attempts: attempt + 1 });
        return;
      } catch (error) {
        if (this.closing) {
          this.logger.error('settlement not written before shutdown; it will be settled at its estimate as an orphan, and this log line keeps its exact usage', {
            error, usageEvent: event, consumption,
          });
          return;
        }
        if (attempt === 0) this.logger.warn('settlement failed; retrying until the store takes it', { requestId: event.requestId, error });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]));
      }
    }
  }

  /** Waits for every settlement; past `timeoutMs`, the unwritten ones are logged (see the class). */
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
