import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { Abort } from './abort.ts';

export type AbortReason = 'client' | 'first_byte' | 'total' | 'gateway';

/** An upstream response's status line and headers (undici's lower-case names). */
export interface UpstreamHead {
  statusCode: number;
  headers: IncomingHttpHeaders;
}

/**
 * Bytes read from the upstream's socket and not yet taken by the relay: past this the socket is
 * paused, so a fast upstream and a slow client never buffer more than this per call.
 */
const HIGH_WATER_BYTES = 256 * 1024;

/**
 * One live upstream call: its abort (linked to the request's), its deadlines, its pool
 * and capacity slots, and a bounded pull reader over its body. Every path ends in `dispose`, which
 * clears the timers and gives the slots back exactly once.
 *
 * The call goes out through undici's `dispatch` with a handler of our own, not `request`: the body's
 * chunks land in a small queue that `next` takes from, without a stream object, its buffering and
 * an async iterator's promises per chunk in between.
 */
export class UpstreamCall {
  reason: AbortReason | null = null;
  bytes = 0;
  /** undici's handle on the request, once it is on a connection. */
  private dispatch: Dispatcher.DispatchController | null = null;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiting: { resolve(chunk: Buffer | null): void; reject(error: Error): void } | null = null;
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
    // Before the request is on a connection there is nothing to stop yet: `onRequestStart` does it.
    if (!this.ended && this.failure === null) this.dispatch?.abort(new CallAbortedError(reason));
  }

  /**
   * Sends the request; resolves with the response head, rejects when none comes (connect failure,
   * reset, timeout, abort). The body is then read with `next`.
   */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<UpstreamHead> {
    return new Promise<UpstreamHead>((resolve, reject) => {
      let head = false;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          this.dispatch = controller;
          if (this.reason !== null) controller.abort(new CallAbortedError(this.reason));
        },
        onResponseStart: (controller, statusCode, headers) => {
          // undici keeps the raw header buffers on the controller for its consumer: views of the
          // socket read that carried them, held for as long as a stream runs (two per header,
          // and providers send a few dozen). The parsed headers are all this call uses.
          controller.rawHeaders = null;
          head = true;
          resolve({ statusCode, headers });
        },
        onResponseData: (controller, chunk) => this.push(controller, chunk),
        onResponseEnd: () => {
          this.ended = true;
          this.settle();
        },
        onResponseError: (_controller, error) => {
          this.failure = error;
          if (!head) reject(error);
          else this.settle();
        },
      };
      try {
        dispatcher.dispatch(options, handler);
      } catch (error) {
        reject(error);
      }
    });
  }

  private push(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting.resolve(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.byteLength;
    if (this.queuedBytes > HIGH_WATER_BYTES && !controller.paused) controller.pause();
  }

  /** Wakes a waiting `next` with the end or the failure. */
  private settle(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    this.waiting = null;
    if (this.failure !== null) waiting.reject(this.failure);
    else waiting.resolve(null);
  }

  private take(): Buffer {
    const chunk = this.queue.shift()!;
    this.queuedBytes -= chunk.byteLength;
    if (this.dispatch?.paused && this.queuedBytes <= HIGH_WATER_BYTES / 2) this.dispatch.resume();
    return chunk;
  }

  /** The body's bytes already received and not read yet, taken without waiting for more. */
  private readBuffered(): Buffer[] {
    const out: Buffer[] = [];
    while (this.queue.length > 0) out.push(this.take());
    return out;
  }

  /**
   * The next body chunk, or null at the end. Throws when the body fails or is aborted, and
   * `CallLimitError` when the body passes `maxBytes` (the call is then aborted). Chunks received
   * before a failure are read first.
   */
  async next(maxBytes: number): Promise<Buffer | null> {
    let chunk: Buffer | null;
    if (this.queue.length > 0) chunk = this.take();
    else if (this.failure !== null) throw this.failure;
    else if (this.ended) chunk = null;
    else chunk = await new Promise<Buffer | null>((resolve, reject) => (this.waiting = { resolve, reject }));
    if (chunk === null) return null;
    this.bytes += chunk.byteLength;
    if (this.bytes > maxBytes) {
      this.abort('gateway');
      throw new CallLimitError(`the answer passed ${maxBytes} bytes`);
    }
    return chunk;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.parent.off('abort', this.onParentAbort);
    // An unread body would hold its connection: stop it (the pool then drops the socket).
    if (!this.ended && this.failure === null) this.dispatch?.abort(new CallAbortedError('gateway'));
    this.queue.length = 0;
    this.queuedBytes = 0;
    for (const release of this.releases) release();
  }
}

/** Why we stopped a call ourselves; the call's `reason` says which deadline or party. */
export class CallAbortedError extends Error {
  override name = 'CallAbortedError';
  constructor(readonly reason: AbortReason) {
    super(`upstream call aborted (${reason})`);
  }
}

export class CallLimitError extends Error {
  override name = 'CallLimitError';
}
