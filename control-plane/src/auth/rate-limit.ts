/**
 * Fixed-window counters in this process's memory: enough to make password guessing and token
 * guessing slow (each control-plane process limits on its own; behind N processes the bound is N
 * times as high). Windows are dropped once past, so memory stays bounded by the active keys.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one hit for `key`; false when the key is over its limit in the current window. */
  hit(key: string, now = Date.now()): boolean {
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size >= this.maxKeys) this.sweep(now);
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    window.count++;
    return window.count <= this.limit;
  }

  /** Milliseconds until `key`'s window ends, for Retry-After. */
  retryAfterMs(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    return window ? Math.max(0, this.windowMs - (now - window.start)) : 0;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(key);
    // Still full: the oldest entries go (Map keeps insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}

export interface RateLimits {
  /** Sign-in attempts per email address. */
  signInPerEmail: RateLimiter;
  /** Sign-in attempts, password resets and invitation acceptances per client address. */
  anonymousPerIp: RateLimiter;
  /** Requests with credentials that do not authenticate, per client address. */
  badCredentialsPerIp: RateLimiter;
  /** Requests per management token or session. */
  perPrincipal: RateLimiter;
}

export function defaultRateLimits(): RateLimits {
  return {
    signInPerEmail: new RateLimiter(10, 15 * 60_000),
    anonymousPerIp: new RateLimiter(30, 60_000),
    badCredentialsPerIp: new RateLimiter(20, 60_000),
    perPrincipal: new RateLimiter(1200, 60_000),
  };
}
