import type { Dispatcher } from 'undici';
import { Abort } from './abort.ts';

export type AbortReason = 'client' | 'first_byte' | 'total' | 'gateway';

/**
 * One live upstream call: its abort controller (linked to the request's), its deadlines, its pool
 * and capacity slots, and a bounded pull reader over its body. Every path ends in `dispose`, which
 * clears the timers and gives the slots back exactly once.
 */
export class UpstreamCall {
  private readonly controller = new Abort();
  reason: AbortReason | null = null;
  bytes = 0;
  private iterator: AsyncIterator<Buffer> | null = null;
  private body: Dispatcher.ResponseData['body'] | null = null;
  /**
   * What the upstream had already sent, unread, when the client left: read before the abort (no
   * waiting), so usage that had arrived is billed as reported instead of estimated.
   */
  leftover: Buffer[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly releases: (() => void)[] = [];
  private disposed = false;
  /** The request's own deadline aborts with this reason; anything else means the client left. */
  static readonly DEADLINE = 'deadline';
  private readonly onParentAbort = (): void => {
    const deadline = this.parent.reason === UpstreamCall.DEADLINE;
    if (!deadline) this.leftover = this.readBuffered();
    this.abort(deadline ? 'total' : 'client');
  };

  constructor(
    private readonly parent: Abort,
    totalMs: number,
  ) {
    if (parent.aborted) this.onParentAbort();
    else parent.once('abort', this.onParentAbort);
    this.deadline(totalMs, 'total');
  }

  get signal(): Abort {
    return this.controller;
  }

  /** Aborts the call when `ms` pass; returns a function that cancels that deadline. */
  deadline(ms: number, reason: AbortReason): () => void {
    const timer = setTimeout(() => this.abort(reason), ms);
    this.timers.push(timer);
    return () => clearTimeout(timer);
  }

  onDispose(release: () => void): void {
    this.releases.push(release);
  }

  abort(reason: AbortReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.controller.abort();
  }

  read(body: Dispatcher.ResponseData['body']): void {
    this.body = body;
    this.iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The body's bytes already received and not read yet, taken without waiting for more. */
  private readBuffered(): Buffer[] {
    const out: Buffer[] = [];
    if (!this.body || this.body.destroyed) return out;
    let size = 0;
    // Bounded like any read: at most what a frame may hold.
    for (let chunk = this.body.read() as Buffer | null; chunk !== null && size < 1024 * 1024; chunk = this.body.read() as Buffer | null) {
      out.push(chunk);
      size += chunk.byteLength;
    }
    return out;
  }

  /**
   * The next body chunk, or null at the end. Throws when the body fails or is aborted, and
   * `CallLimitError` when the body passes `maxBytes` (the call is then aborted).
   */
  async next(maxBytes: number): Promise<Buffer | null> {
    const step = await this.iterator!.next();
    if (step.done) return null;
    this.bytes += step.value.byteLength;
    if (this.bytes > maxBytes) {
      this.abort('gateway');
      throw new CallLimitError(`the answer passed ${maxBytes} bytes`);
    }
    return step.value;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.parent.off('abort', this.onParentAbort);
    // An unread body would hold its connection: stop it (the pool then drops the socket).
    if (!this.controller.aborted) this.iterator?.return?.().catch(() => {});
    for (const release of this.releases) release();
  }
}

export class CallLimitError extends Error {
  override name = 'CallLimitError';
}
