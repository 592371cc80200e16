import { GatewayError, isContentEvent, plainErrorName, sanitiseProviderText, UpstreamFormatError, type DecodedFrame, type StreamDecoder } from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';
import type { Abort } from './abort.ts';
import { CallLimitError, UpstreamCall } from './call.ts';
import { failure, retryAfterMs, statusFailure, transportFailure, unsupported, type AttemptFailure } from './failure.ts';
import type { Capacity } from './capacity.ts';
import type { Exchange } from './exchange.ts';
import type { UpstreamPools } from './pools.ts';

export interface AttemptLimits {
  /** Largest answer, streamed or not. */
  maxResponseBytes: number;
  /** Largest single stream frame. */
  maxFrameChars: number;
  /** Largest error body read (for the sanitised message); the rest is dropped. */
  maxErrorBodyBytes: number;
}

export type AttemptSuccess<T> =
  | { kind: 'whole'; response: T; raw: Buffer; call: UpstreamCall }
  /** A stream that has produced its first content: `pending` holds every frame read so far. */
  | { kind: 'stream'; pending: DecodedFrame[]; call: UpstreamCall; decoder: StreamDecoder };

export type AttemptOutcome<T> =
  | { ok: true; success: AttemptSuccess<T>; latencyMs: number }
  | { ok: false; failure: AttemptFailure; latencyMs: number }
  /** The client left (or the request's own deadline passed): nothing more to try. */
  | { ok: false; failure: null; latencyMs: number };

export interface AttemptDeps {
  pools: UpstreamPools;
  capacity: Capacity;
  limits: AttemptLimits;
}

/**
 * One call to one candidate. It writes nothing to the client: it returns a response ready to relay
 * (a whole answer, or a stream that has produced content), or a classified failure, so the
 * dispatcher can still fall back. A stream counts as failed until its first content event: an
 * upstream that breaks, stalls or reports an error before that costs the client nothing and can be
 * replaced by the next candidate.
 */
export async function attempt<T>(candidate: Candidate, exchange: Exchange<T>, signal: Abort, deps: AttemptDeps): Promise<AttemptOutcome<T>> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  // Prepared before any slot is taken: an adapter that cannot express the request throws, and
  // nothing must be held when it does.
  let prepared;
  try {
    prepared = exchange.prepare(candidate);
    if (candidate.adapter.sign) prepared = candidate.adapter.sign(prepared, candidate.target.credential, new Date());
  } catch (error) {
    if (error instanceof GatewayError) return { ok: false, failure: unsupported(error), latencyMs: 0 };
    throw error;
  }
  const slot = deps.capacity.tryAcquire(candidate.breakerId, candidate.maxConcurrency);
  if (!slot) return { ok: false, failure: failure('saturated', `the channel is at its limit of ${candidate.maxConcurrency} concurrent calls`), latencyMs: 0 };
  const lease = deps.pools.acquire(candidate.target.origin, candidate.timeouts.connectMs, candidate.allowPrivateNetwork);
  if (!lease) {
    slot();
    return { ok: false, failure: failure('saturated', 'the connection pool for this origin is full'), latencyMs: 0 };
  }
  const call = new UpstreamCall(signal, candidate.timeouts.totalMs);
  call.onDispose(lease.release);
  call.onDispose(slot);
  const failed = (f: AttemptFailure | null): AttemptOutcome<T> => {
    call.dispose();
    return { ok: false, failure: call.reason === 'client' ? null : f, latencyMs: elapsed() };
  };

  // For a stream, "first byte" means first content, which may come after the response head.
  const cancelFirstByte = call.deadline(candidate.timeouts.firstByteMs, 'first_byte');
  let response;
  try {
    response = await call.send(lease.pool, {
      method: prepared.method,
      path: prepared.path,
      headers: prepared.headers,
      body: prepared.body,
      headersTimeout: candidate.timeouts.firstByteMs,
      bodyTimeout: candidate.timeouts.idleMs,
    });
  } catch (error) {
    return failed(call.reason === 'first_byte' || call.reason === 'total' ? failure('timeout', 'no response before the first-byte deadline') : transportFailure(error));
  }

  const status = response.statusCode;
  if (status < 200 || status >= 300) {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for (let chunk = await call.next(Number.MAX_SAFE_INTEGER); chunk !== null && size < deps.limits.maxErrorBodyBytes; chunk = await call.next(Number.MAX_SAFE_INTEGER)) {
        chunks.push(chunk);
        size += chunk.byteLength;
      }
    } catch {
      // A broken error body still tells us the status.
    }
    const body = Buffer.concat(chunks).subarray(0, deps.limits.maxErrorBodyBytes);
    return failed(statusFailure(status, retryAfterMs(response.headers['retry-after'], Date.now()), candidate.adapter.describeError(status, body, response.headers)));
  }

  const readFailure = (error: unknown): AttemptFailure => {
    if (error instanceof CallLimitError) return failure('too_large', error.message);
    if (error instanceof UpstreamFormatError) return failure(error.tooLarge ? 'too_large' : 'bad_response', error.message);
    if (call.reason === 'first_byte') return failure('timeout', 'no content before the first-byte deadline');
    if (call.reason === 'total') return failure('timeout', 'the call passed its total deadline');
    return transportFailure(error);
  };

  if (!exchange.stream) {
    const chunks: Buffer[] = [];
    try {
      for (let chunk = await call.next(deps.limits.maxResponseBytes); chunk !== null; chunk = await call.next(deps.limits.maxResponseBytes)) chunks.push(chunk);
    } catch (error) {
      return failed(readFailure(error));
    }
    cancelFirstByte();
    const raw = Buffer.concat(chunks, call.bytes);
    let parsed: T;
    try {
      parsed = exchange.parse(candidate, raw);
    } catch (error) {
      return failed(failure('bad_response', error instanceof Error ? error.message : 'unreadable answer'));
    }
    // The body is read: the connection goes back to the pool, the slot to the channel.
    call.dispose();
    return { ok: true, success: { kind: 'whole', response: parsed, raw, call }, latencyMs: elapsed() };
  }

  const decoder = exchange.decoder(candidate, { maxFrameChars: deps.limits.maxFrameChars });
  const pending: DecodedFrame[] = [];
  let content = false;
  try {
    for (;;) {
      const chunk = await call.next(deps.limits.maxResponseBytes);
      const frames = chunk === null ? decoder.end() : decoder.push(chunk);
      for (const frame of frames) {
        pending.push(frame);
        if (content) continue;
        // Frames are read in order: an error before the first content fails the attempt; one after
        // it belongs to the relay (the client already has content by then).
        const error = frame.events.find((e) => e.type === 'error');
        if (error && error.type === 'error') return failed(failure('stream_error', streamErrorMessage(error.code, error.message)));
        if (frame.events.some(isContentEvent)) content = true;
      }
      if (content) {
        cancelFirstByte();
        return { ok: true, success: { kind: 'stream', pending, call, decoder }, latencyMs: elapsed() };
      }
      if (chunk === null) return failed(failure('bad_response', 'the stream ended without any content'));
    }
  } catch (error) {
    return failed(readFailure(error));
  }
}

/**
 * An error event's code and message, for operators. A plain error name goes as it is (the sanitiser
 * would mask one as long as `serviceUnavailableException` as key-like); anything else is sanitised.
 */
function streamErrorMessage(code: string | null, message: string): string {
  const name = plainErrorName(code);
  if (name !== null) return `error event before content: ${name} ${sanitiseProviderText(message)}`;
  return sanitiseProviderText(`error event before content: ${code ?? ''} ${message}`);
}
