import { redactText } from '../log.ts';

const MAX_MESSAGE_CHARS = 300;
// Long runs of key-like characters: API keys, tokens, signatures, in any provider's format.
const KEYLIKE = /[A-Za-z0-9_\-+/=.]{24,}/g;
// The auth scheme is case-insensitive (RFC 9110): providers echo `bearer <token>` too.
const BEARER = /\b(bearer\s+)\S+/gi;

/**
 * Makes a provider's error text safe for operator logs and usage records: secrets masked (ours and
 * anything key-shaped, e.g. "Incorrect API key provided: sk-...abcd"), control characters dropped,
 * length bounded. It is still never sent to a client.
 */
export function sanitiseProviderText(text: string): string {
  const cleaned = redactText(text)
    .replace(BEARER, '$1[redacted]')
    .replace(KEYLIKE, '[redacted]')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  return cleaned.length > MAX_MESSAGE_CHARS ? `${cleaned.slice(0, MAX_MESSAGE_CHARS)}…` : cleaned;
}

/**
 * A provider's error name as it may be shown beside sanitised text: AWS's
 * `ServiceUnavailableException`, Google's `RESOURCE_EXHAUSTED`, OpenAI's `rate_limit_exceeded`.
 * Only letters and `_`, at most 64: keys and tokens always mix in digits, so such a name is never
 * one and need not be masked like the long key-like run it may be. Null for anything else.
 */
export function plainErrorName(raw: string | null | undefined): string | null {
  return typeof raw === 'string' && /^[A-Za-z_]{1,64}$/.test(raw) ? raw : null;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * Reads the common `{"error": {"type", "code", "message"}}` (or `{"error": "text"}`) error body
 * shape most providers share, sanitised; falls back to the status alone.
 */
export function describeJsonError(status: number, body: Uint8Array): string {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return `HTTP ${status} (non-JSON error body, ${body.byteLength} bytes)`;
  }
  const error = field(payload, 'error') ?? payload;
  const parts: string[] = [];
  for (const name of ['type', 'code', 'status']) {
    const value = field(error, name);
    if (typeof value === 'string' || typeof value === 'number') parts.push(String(value));
  }
  const message = typeof error === 'string' ? error : field(error, 'message');
  if (typeof message === 'string') parts.push(message);
  return sanitiseProviderText(`HTTP ${status}${parts.length ? `: ${parts.join(' / ')}` : ''}`);
}
