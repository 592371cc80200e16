import type { Reply } from './reply.ts';

/**
 * Responses still being served, so a shutdown can let them finish: `drain` waits for them up to a
 * grace period, then cuts the rest, whose abort path settles them like any client disconnect.
 */
export class InFlight {
  private readonly replies = new Set<Reply>();
  private idle: (() => void) | null = null;

  add(reply: Reply): void {
    this.replies.add(reply);
  }

  delete(reply: Reply): void {
    this.replies.delete(reply);
    if (this.replies.size === 0) this.idle?.();
  }

  get size(): number {
    return this.replies.size;
  }

  async drain(graceMs: number): Promise<void> {
    await this.untilIdle(graceMs);
    for (const reply of this.replies) reply.abort();
    // A cut request leaves the set once its settlement is queued; wait for that too.
    await this.untilIdle(5_000);
  }

  private async untilIdle(timeoutMs: number): Promise<void> {
    if (this.replies.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.idle = null;
  }
}
