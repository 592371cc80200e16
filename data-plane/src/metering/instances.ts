import { randomBytes } from 'node:crypto';
import type { Logger, StateStore } from '@tollgate/shared';
import type { Settlements } from './settlements.ts';

export interface LeaseSettings {
  /** How often this instance says it is alive. */
  heartbeatMs: number;
  /** An instance silent this long is dead: its requests are settled for it. */
  deadAfterMs: number;
}

export const DEFAULT_LEASE: LeaseSettings = { heartbeatMs: 2_000, deadAfterMs: 10_000 };

/**
 * This data plane's lease in the store, and the janitor that settles what dead instances left.
 * Every admitted request records an intent naming its instance; an instance that stops
 * heartbeating (killed, frozen, cut off) is dead after `deadAfterMs`, and whichever data plane
 * notices first settles each of its intents once (the input estimate, marked `orphaned`),
 * releasing holds and counters within seconds instead of at the hold's long deadline.
 */
export class InstanceLease {
  readonly id = `dp_${randomBytes(8).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The store's epoch when last read; undefined before the first reading. */
  private epoch: string | null | undefined = undefined;
  /** Set when the recent events were replayed at the sight of a missing epoch. */
  private replayedForLoss = false;

  constructor(
    private readonly store: StateStore,
    private readonly settings: LeaseSettings,
    private readonly logger: Logger,
    private readonly settlements: Settlements | null = null,
  ) {}

  async start(): Promise<void> {
    await this.store.heartbeat(this.id, Date.now());
    this.epoch = await this.store.getEpoch();
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => {
        this.running = null;
      });
    }, this.settings.heartbeatMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    try {
      await this.watchEpoch();
      await this.store.heartbeat(this.id, now);
      for (const dead of await this.store.staleInstances(now - this.settings.deadAfterMs)) {
        if (dead === this.id) continue;
        const settled = await this.store.settleOrphans(dead, this.settings.deadAfterMs * 3);
        if (settled > 0) this.logger.warn('settled requests a dead data plane left', { instance: dead, settled });
      }
    } catch (error) {
      this.logger.warn('lease heartbeat or janitor failed; retrying', { error });
    }
  }

  /**
   * A vanished or changed epoch means the store lost its data (Redis restarted empty; a control
   * plane keeps the epoch across its own restarts): the events settled recently are appended again,
   * so none that the lost stream held is missing from the books. Replayed once per loss: at the
   * first sight of the missing epoch, or at the new one if the gap was never seen.
   */
  private async watchEpoch(): Promise<void> {
    const epoch = await this.store.getEpoch();
    if (epoch === this.epoch) return;
    const before = this.epoch;
    this.epoch = epoch;
    if (before === undefined || !this.settlements) return;
    if (epoch !== null && before === null && this.replayedForLoss) {
      this.replayedForLoss = false;
      return;
    }
    this.replayedForLoss = epoch === null;
    const replayed = await this.settlements.replayRecent();
    this.logger.warn('the store lost its data (its epoch changed): recent usage events appended again', { replayed, epoch: epoch ?? 'none' });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    // Everything of ours is settled by now (close drains first): leave nothing for a janitor.
    try {
      await this.store.settleOrphans(this.id, 1_000);
    } catch (error) {
      this.logger.warn('could not clear this instance from the store', { error });
    }
  }
}
