import type { Logger, StateStore } from '@tollgate/shared';

export interface BreakerSettings {
  /** Consecutive failures (across every data plane) that open a breaker. */
  threshold: number;
  coolDownMs: number;
  /** Also open when, within `windowMs`, at least `minCalls` calls were made and `rate` of them failed. */
  errorRate: { windowMs: number; minCalls: number; rate: number };
  /** How long the one half-open probe may take before another caller may probe. */
  probeTtlMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = {
  threshold: 5,
  coolDownMs: 30_000,
  errorRate: { windowMs: 30_000, minCalls: 20, rate: 0.5 },
  probeTtlMs: 30_000,
};

interface Local {
  openUntil: number;
  failures: number;
  windowStart: number;
  calls: number;
  failed: number;
}

/**
 * Circuit breakers per channel (or BYOK credential). The state lives in the store, so every data
 * plane agrees: failures are counted there, an opening is announced, and after the cool-down
 * exactly one caller (the store decides) sends the half-open probe, whose outcome closes or
 * re-opens it. Each process keeps a local view for routing, refreshed on announcements, so a
 * healthy channel costs no store round trip: successes touch the store only when the view says
 * there were failures to clear.
 */
export class Breakers {
  private readonly local = new Map<string, Local>();

  constructor(
    private readonly store: StateStore,
    private readonly settings: BreakerSettings,
    private readonly logger: Logger,
  ) {}

  private view(id: string, now: number): Local {
    let state = this.local.get(id);
    if (!state) {
      state = { openUntil: 0, failures: 0, windowStart: now, calls: 0, failed: 0 };
      this.local.set(id, state);
    }
    if (now - state.windowStart >= this.settings.errorRate.windowMs) {
      state.windowStart = now;
      state.calls = 0;
      state.failed = 0;
    }
    return state;
  }

  /** Milliseconds until the breaker may let a call through; 0 when closed. */
  coolingFor(id: string, now: number): number {
    const state = this.local.get(id);
    return state && state.openUntil > now ? state.openUntil - now : 0;
  }

  /** Whether a call may go to this channel now: closed, or half-open and this caller won the probe. */
  async allows(id: string, now: number): Promise<boolean> {
    const state = this.local.get(id);
    if (!state || state.openUntil === 0) return true;
    if (state.openUntil > now) return false;
    try {
      return await this.store.breakerTryProbe(id, now, this.settings.probeTtlMs);
    } catch (error) {
      this.logger.warn('breaker probe check failed; not probing', { breakerId: id, error });
      return false;
    }
  }

  success(id: string, now: number): void {
    const state = this.view(id, now);
    state.calls++;
    if (state.failures === 0 && state.openUntil === 0) return;
    state.failures = 0;
    state.openUntil = 0;
    this.store.breakerSuccess(id).catch((error: unknown) => this.logger.warn('breaker reset failed', { breakerId: id, error }));
  }

  async failure(id: string, now: number): Promise<void> {
    const state = this.view(id, now);
    state.calls++;
    state.failed++;
    const { minCalls, rate } = this.settings.errorRate;
    const rateTripped = state.calls >= minCalls && state.failed / state.calls >= rate;
    try {
      const shared = await this.store.breakerFailure(id, { nowMs: now, threshold: rateTripped ? 1 : this.settings.threshold, coolDownMs: this.settings.coolDownMs });
      if (shared.openUntil > state.openUntil) this.logger.warn('circuit breaker open', { breakerId: id, failures: shared.failures, openUntil: new Date(shared.openUntil).toISOString() });
      state.openUntil = shared.openUntil;
      state.failures = shared.failures;
    } catch (error) {
      this.logger.warn('breaker update failed', { breakerId: id, error });
    }
  }

  /** Another process changed this breaker: read its state again. */
  async refresh(id: string, now: number): Promise<void> {
    const shared = await this.store.getBreaker(id);
    const state = this.view(id, now);
    state.openUntil = shared.openUntil;
    state.failures = shared.failures;
  }

  clear(): void {
    this.local.clear();
  }
}
