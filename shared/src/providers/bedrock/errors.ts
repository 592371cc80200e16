import { EventStreamDecoder, stringHeader, type EventStreamMessage } from '../../wire/event-stream.ts';
import type { ResponseHeaders } from '../adapter.ts';
import { field, stringField } from '../json.ts';
import { plainErrorName, sanitiseProviderText } from '../sanitise.ts';

/**
 * Bedrock's error, for operators. AWS's REST-JSON protocol answers `{"message": "..."}` (some
 * front ends `{"Message": ...}`) and names the error type in the `x-amzn-ErrorType` header
 * (`ThrottlingException:http://internal.amazon.com/coral/...`), sometimes also as `__type` in the
 * body; the body's type wins, the header's fills in. A body in event-stream framing (a stream
 * refused in its own format) names it in its `:exception-type` (or `:error-code`) header. The
 * status tells the rest (400 validation, 403 access, 404 model, 408 model timeout, 424 model
 * error, 429 throttling, 500 internal, 503 unavailable).
 */
export function describeBedrockError(status: number, body: Uint8Array, headers: ResponseHeaders = {}): string {
  const headerType = typeName(headerValue(headers, 'x-amzn-errortype'));
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    const framed = framedError(body);
    if (framed !== null) return describe(status, framed.type ?? headerType, framed.message);
    return `HTTP ${status}${headerType !== null ? `: ${headerType}` : ''} (non-JSON error body, ${body.byteLength} bytes)`;
  }
  const bodyType = field(payload, '__type') ?? field(payload, 'code');
  const message = field(payload, 'message') ?? field(payload, 'Message');
  return describe(status, (typeof bodyType === 'string' ? typeName(bodyType) : null) ?? headerType, typeof message === 'string' ? message : null);
}

/** The bound sanitiseProviderText keeps, for the whole description. */
const MAX_CHARS = 300;

/**
 * `HTTP 429: ThrottlingException / message`. The type is a plain name (typeName) and goes as it is:
 * through the sanitiser, a name as long as `ServiceUnavailableException` would be masked as key-like.
 */
function describe(status: number, type: string | null, message: string | null): string {
  const head = `HTTP ${status}${type !== null ? `: ${type}` : ''}`;
  if (message === null || message === '') return head;
  const text = `${head}${type !== null ? ' / ' : ': '}${sanitiseProviderText(message)}`;
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
}

function headerValue(headers: ResponseHeaders, name: string): string | null {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : null;
  }
  return null;
}

/**
 * An error type without namespace (`com.amazon.bedrock#ValidationException`) or the URL AWS
 * appends after `:`; null unless what is left is a plain name, so a header cannot put arbitrary
 * text in the logs.
 */
function typeName(raw: string | null): string | null {
  if (raw === null) return null;
  return plainErrorName(raw.replace(/^.*#/, '').replace(/:.*$/, '').trim());
}

/** The first exception or error message of a body in event-stream framing; null for anything else. */
function framedError(body: Uint8Array): { type: string | null; message: string | null } | null {
  let messages: EventStreamMessage[];
  try {
    const decoder = new EventStreamDecoder(Math.max(16, body.byteLength));
    messages = decoder.push(body);
  } catch {
    return null;
  }
  for (const m of messages) {
    const kind = stringHeader(m, ':message-type');
    if (kind === 'error') return { type: typeName(stringHeader(m, ':error-code')), message: stringHeader(m, ':error-message') };
    if (kind === 'exception') {
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(m.payload).toString('utf8'));
      } catch {
        payload = null;
      }
      return { type: typeName(stringHeader(m, ':exception-type')), message: stringField(payload, 'message') ?? stringField(payload, 'Message') };
    }
  }
  return null;
}
