import { EventEmitter } from 'node:events';

/**
 * A request's or an upstream call's cancellation: what an AbortController gives fetch, at a
 * fraction of its cost. Making an AbortController and adding and removing one listener measured
 * 4-7 µs here; this (an EventEmitter) 0.2 µs, and a request makes two of them and wires three
 * listeners. undici takes it as a request's `signal`: any EventEmitter with `aborted` and `reason`.
 */
export class Abort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}
