import type { Nanocredits } from '@tollgate/shared';

export interface GraceSettings {
  /** How long after the store became unreachable requests may still be admitted locally. */
  graceMs: number;
  /** Most an org may spend locally during one outage (also never more than it had available). */
  perOrgAllowance: Nanocredits;
}

/** One credit per org, for one minute: enough to ride out a failover, not enough to hurt. */
export const DEFAULT_GRACE: GraceSettings = { graceMs: 60_000, perOrgAllowance: 1_000_000_000n };

const REMEMBERED_ORGS = 100_000;

/**
 * What this data plane does while the state store is unreachable. A request whose key is in the
 * process cache may still be served for a bounded grace period, on a bounded local allowance per
 * org — never more than the org had available at its last admission — its settlement buffered and
 * written when the store is back. Anything else gets 503 with Retry-After, never 500 or 401.
 */
export class StoreOutage {
  private downSince: number | null = null;
  private readonly available = new Map<string, Nanocredits>();
  private readonly spent = new Map<string, Nanocredits>();

  constructor(private readonly settings: GraceSettings) {}

  get isDown(): boolean {
    return this.downSince !== null;
  }

  /** A successful admission: the store is up, and this is what the org had left. */
  up(orgId: string, available: Nanocredits): void {
    if (this.downSince !== null) {
      this.downSince = null;
      this.spent.clear();
    }
    this.available.delete(orgId);
    if (this.available.size >= REMEMBERED_ORGS) {
      const oldest = this.available.keys().next();
      if (!oldest.done) this.available.delete(oldest.value);
    }
    this.available.set(orgId, available);
  }

  down(now: number): void {
    this.downSince ??= now;
  }

  /** Whether `hold` may be spent locally for the org now; if so, it is counted. */
  tryLocal(orgId: string, hold: Nanocredits, now: number): boolean {
    if (this.downSince === null || now - this.downSince > this.settings.graceMs) return false;
    const known = this.available.get(orgId) ?? 0n;
    const allowance = known < this.settings.perOrgAllowance ? known : this.settings.perOrgAllowance;
    const spent = this.spent.get(orgId) ?? 0n;
    if (spent + hold > allowance) return false;
    this.spent.set(orgId, spent + hold);
    return true;
  }
}
