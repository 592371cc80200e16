/**
 * Concurrent calls per channel (or BYOK credential), bounded by the channel's `maxConcurrency`.
 * A full channel is not queued behind: the attempt fails as `saturated` at once and the dispatcher
 * moves to the next candidate, or answers 503 with Retry-After when none is left.
 */
export class Capacity {
  private readonly inFlight = new Map<string, number>();

  tryAcquire(id: string, limit: number): (() => void) | null {
    const current = this.inFlight.get(id) ?? 0;
    if (current >= limit) return null;
    this.inFlight.set(id, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(id) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(id);
      else this.inFlight.set(id, left);
    };
  }

  used(id: string): number {
    return this.inFlight.get(id) ?? 0;
  }
}
