import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';

const STATUS_LINES = new Map<number, string>();
function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (!line) STATUS_LINES.set(status, (line = `${status} ${STATUS_CODES[status] ?? ''}`.trim()));
  return line;
}

export type Headers = readonly (readonly [string, string])[];

/**
 * One response's lifecycle over a uWS HttpResponse. uWS frees the response at abort or end, after
 * which touching it crashes the process, so every write goes through here and checks `open`. The
 * abort handler is attached in the constructor, before any async work, as uWS requires.
 */
export class Reply {
  private aborted = false;
  private finished = false;
  private readonly abortListeners: (() => void)[] = [];
  private writableListener: (() => void) | null = null;

  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      for (const listener of this.abortListeners) listener();
      // A writer waiting for a drain must not wait for a client that is gone.
      const waiting = this.writableListener;
      this.writableListener = null;
      waiting?.();
    });
  }

  get open(): boolean {
    return !this.aborted && !this.finished;
  }

  get wasAborted(): boolean {
    return this.aborted;
  }

  /** Runs `listener` when the client goes away; at once if it already has (late registrations must not miss it). */
  onAbort(listener: () => void): void {
    if (this.aborted) listener();
    else this.abortListeners.push(listener);
  }

  /** A whole response in one corked write. */
  send(status: number, headers: Headers, body: string | Uint8Array): void {
    if (!this.open) return;
    this.finished = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const [name, value] of headers) this.res.writeHeader(name, value);
      this.res.end(body);
    });
  }

  sendJson(status: number, headers: Headers, body: string | Uint8Array): void {
    this.send(status, [...headers, ['content-type', 'application/json']], body);
  }

  /** An error in the client's format (`body`), with Retry-After when the error carries one. */
  sendError(error: GatewayError, headers: Headers = [], body: string = error.toBody()): void {
    const all = error.retryAfterSeconds === null ? headers : [...headers, ['retry-after', String(error.retryAfterSeconds)] as const];
    this.sendJson(error.status, all, body);
  }

  /**
   * Starts a streamed response with its first chunk in the same corked write, so the headers leave
   * with the first content, not before. Returns false when uWS had to buffer (see `write`).
   */
  begin(status: number, headers: Headers, first: string): boolean {
    if (!this.open) return true;
    let ok = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const [name, value] of headers) this.res.writeHeader(name, value);
      if (first.length > 0) ok = this.res.write(first);
    });
    return ok;
  }

  /**
   * Writes a chunk. Returns false when uWS buffered it because the client reads slowly: the caller
   * pauses its source until `whenWritable` fires.
   */
  write(chunk: string | Uint8Array): boolean {
    if (!this.open) return true;
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    return ok;
  }

  whenWritable(resume: () => void): void {
    if (!this.open) return;
    const first = this.writableListener === null;
    this.writableListener = resume;
    if (!first) return;
    this.res.onWritable(() => {
      const listener = this.writableListener;
      this.writableListener = null;
      listener?.();
      // Returning true tells uWS the drain was handled; it calls again on the next drain.
      return true;
    });
  }

  /** Resolves when uWS has drained its buffer, or at once when the client is gone. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.open) resolve();
      else this.whenWritable(resolve);
    });
  }

  /** Closes the connection at once; the abort listeners run, as for a client that went away. */
  abort(): void {
    if (this.open) this.res.close();
  }

  end(chunk?: string | Uint8Array): void {
    if (!this.open) return;
    this.finished = true;
    this.res.cork(() => {
      this.res.end(chunk);
    });
  }
}
