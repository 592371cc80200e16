import { errors as undici } from 'undici';
import { GatewayError, UpstreamAddressError } from '@tollgate/shared';

export type FailureClass =
  /** TCP/TLS connect failed or timed out. */
  | 'connect'
  /** The upstream's address is not one this call may reach (private, metadata, our own listener): not connected. */
  | 'address'
  /** The connection broke (reset, closed) before an answer was complete. */
  | 'reset'
  /** No first byte, or silence between chunks, or the whole call, past its deadline. */
  | 'timeout'
  /** The provider answered with an error status. */
  | 'status'
  /** The provider answered 2xx with something that is not an answer of its protocol. */
  | 'bad_response'
  /** The provider reported an error inside a stream before any content. */
  | 'stream_error'
  /** The answer passed the size bound. */
  | 'too_large'
  /** This provider's adapter cannot express the request (e.g. an image URL it cannot fetch): not called. */
  | 'unsupported'
  /** The channel is at its concurrency limit: not called (no hidden queue). */
  | 'saturated';

/** How one attempt failed. Nothing here is ever shown to a client as the provider said it. */
export interface AttemptFailure {
  class: FailureClass;
  /** The provider's HTTP status, when it answered. */
  status: number | null;
  /** Another candidate (or a retry) may succeed: only then does the dispatcher go on. */
  retryable: boolean;
  /** The failure says something about the channel's health (opens its breaker when repeated). */
  countsForBreaker: boolean;
  /** From `Retry-After`, when the provider sent one. */
  retryAfterMs: number | null;
  /** Sanitised, for operators (usage record, warn log). */
  message: string;
  /** What the client hears if this is the last failure: our words, meant for the client. */
  answer?: GatewayError;
}

/** An adapter refused to prepare the request: another provider may take it, so it is retryable. */
export function unsupported(error: GatewayError): AttemptFailure {
  return { class: 'unsupported', status: null, retryable: true, countsForBreaker: false, retryAfterMs: null, message: error.message, answer: error };
}

/**
 * Statuses after which another channel may well succeed: rate limits, server errors, and the
 * channel's own credential or model being refused (401/403/404: the next channel has its own).
 * 400/413/422 say the request itself is wrong; no other channel would take it. A redirect is
 * never followed (it could point anywhere, a private address included): it is the channel's fault.
 */
const RETRYABLE_STATUS = new Set([401, 403, 404, 408, 409, 425, 429, 500, 502, 503, 504, 529]);

export function statusFailure(status: number, retryAfterMs: number | null, message: string): AttemptFailure {
  const retryable = RETRYABLE_STATUS.has(status) || status >= 500 || (status >= 300 && status < 400);
  return { class: 'status', status, retryable, countsForBreaker: retryable, retryAfterMs, message };
}

export function failure(kind: Exclude<FailureClass, 'status' | 'unsupported'>, message: string): AttemptFailure {
  const retryable = kind !== 'too_large';
  return { class: kind, status: null, retryable, countsForBreaker: kind !== 'saturated', retryAfterMs: null, message };
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** undici's errors into failure classes: connect failures, timeouts, and anything else a broken connection. */
export function transportFailure(error: unknown): AttemptFailure {
  if (error instanceof UpstreamAddressError) return failure('address', `upstream address not allowed: ${error.message}`);
  if (error instanceof undici.ConnectTimeoutError) return failure('connect', 'connect timed out');
  if (error instanceof undici.HeadersTimeoutError) return failure('timeout', 'no response head before the first-byte timeout');
  if (error instanceof undici.BodyTimeoutError) return failure('timeout', 'silence between chunks passed the idle timeout');
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECT_CODES.has(code)) return failure('connect', `connect failed (${code})`);
  return failure('reset', typeof code === 'string' ? `connection failed (${code})` : 'connection failed');
}

/** `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d{1,7}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * What the client hears when the dispatcher gives up. Our words only: never the provider's body.
 * One failed attempt maps by its class; several (a fallback or retries happened) are
 * `fallback_exhausted`.
 */
export function clientError(failures: AttemptFailure[], skippedByBreaker: number, retryAfterSeconds: number | null): GatewayError {
  const last = failures[failures.length - 1];
  // Every candidate refused the request's shape: say why, in the adapter's words (a 400).
  if (failures.length > 0 && failures.every((f) => f.answer !== undefined)) return last!.answer!;
  // Every address refused: a configuration fault no retry fixes. Which address stays in the log.
  if (failures.length > 0 && failures.every((f) => f.class === 'address')) {
    return new GatewayError('upstream_address_not_allowed', "The provider's address is not one this gateway may connect to (a private, loopback or metadata address, or the gateway itself).");
  }
  if (!last) {
    const error = new GatewayError(
      'no_channel_available',
      skippedByBreaker > 0 ? 'Every provider for this model is cooling down after failures; retry shortly.' : 'Every provider for this model is at capacity; retry shortly.',
    );
    return error.withRetryAfter(retryAfterSeconds ?? 1);
  }
  if (!last.retryable) {
    if (last.class === 'status' && last.status !== null && last.status < 500) {
      return new GatewayError('invalid_request', `The provider rejected the request as invalid (HTTP ${last.status}).`);
    }
    return new GatewayError('upstream_error', last.class === 'too_large' ? 'The provider sent an answer larger than this gateway accepts.' : 'The provider failed.');
  }
  if (failures.length > 1) {
    return new GatewayError('fallback_exhausted', `All ${failures.length} attempts across this model's providers failed; retry later.`).withRetryAfter(retryAfterSeconds ?? 1);
  }
  if (last.class === 'timeout') return new GatewayError('upstream_timeout', 'The provider did not answer in time.');
  if (last.class === 'status' && last.status === 429) {
    const error = new GatewayError('rate_limited', 'The provider is rate limiting requests; retry later.');
    return last.retryAfterMs !== null ? error.withRetryAfter(last.retryAfterMs / 1000) : error;
  }
  if (last.class === 'saturated') return new GatewayError('no_channel_available', 'Every provider for this model is at capacity; retry shortly.').withRetryAfter(1);
  return new GatewayError('upstream_error', last.class === 'status' ? `The provider failed (HTTP ${last.status}).` : 'The provider could not be reached.');
}
