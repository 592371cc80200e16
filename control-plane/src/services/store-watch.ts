import { silentLogger, type Logger, type StateStore } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import { sweepUndebited } from './balances.ts';
import type { Publisher } from './publisher.ts';

export interface StoreWatchOptions {
  /** How often the store's epoch is checked. */
  intervalMs?: number;
  /** How often undebited usage is swept into the store's balances (a safety net). */
  sweepMs?: number;
}

export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
const DEFAULT_SWEEP_MS = 10_000;

/**
 * Notices by itself when the state store lost its data (Redis restarted empty: the epoch the
 * publisher writes last is gone) and republishes everything from Postgres: key records and their
 * spend counters, routes, BYOK records, balances seeded from the ledger. Data planes answer 503
 * until the epoch is back. It also sweeps usage settled while the store held no balance.
 */
export class StoreWatch {
  private timer: NodeJS.Timeout | null = null;
  /** The check in progress: a second caller waits for it instead of republishing twice. */
  private running: Promise<void> | null = null;
  private lastSweep = 0;
  private closed = false;
  private readonly intervalMs: number;
  private readonly sweepMs: number;
  /** Republications after a detected reset, for tests and the log. */
  recoveries = 0;

  constructor(
    private readonly db: Db,
    private readonly store: StateStore,
    private readonly publisher: Publisher,
    private readonly logger: Logger = silentLogger,
    options: StoreWatchOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
    this.sweepMs = options.sweepMs ?? DEFAULT_SWEEP_MS;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.lastSweep = Date.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.check().finally(() => this.schedule()), this.intervalMs);
    this.timer.unref();
  }

  /** One check: republish after a reset; sweep when due. Never throws (a failed step retries next time). */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    try {
      if ((await this.store.getEpoch()) === null) {
        this.logger.warn('the state store lost its data (no epoch): republishing everything from the database');
        await this.publisher.publishAll();
        this.recoveries++;
        this.logger.info('state store republished after a reset');
      }
      if (Date.now() - this.lastSweep >= this.sweepMs) {
        this.lastSweep = Date.now();
        await sweepUndebited(this.db, this.store, this.logger);
      }
    } catch (error) {
      // Redis or Postgres unreachable: nothing to do until they are back.
      this.logger.warn('state store check failed; retrying', { error });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
