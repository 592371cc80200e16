import type { Logger, Settlement, StateStore } from '@tollgate/shared';

const RETRY_DELAYS_MS = [50, 200, 1_000, 5_000];

/**
 * Settles requests off the response path: the client is not kept waiting for Redis, but no
 * settlement is dropped. A failed settlement is retried (settling is idempotent per request id), the
 * server's close waits for those in flight, and one that still fails is logged whole (usage events
 * hold no secrets) so `reconcile` can replay it.
 */
export class Settlements {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  settle(settlement: Settlement): void {
    const task = this.attempt(settlement).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async attempt(settlement: Settlement): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.settle(settlement);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.logger.error('settlement failed; usage event kept in this log line for replay', { error, usageEvent: settlement.event, consumption: settlement.consumption });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
