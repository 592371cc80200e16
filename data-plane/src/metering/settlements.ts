import type { Logger, Settlement, StateStore } from '@tollgate/shared';

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
export class Settlements {
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    readonly maxBuffered = 100_000,
  ) {}

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
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
