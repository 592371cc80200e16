import { field, numberField, stringField } from '../json.ts';
import { sanitiseProviderText } from '../sanitise.ts';

/**
 * Google's error body, `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
 * "details": [{"@type": ".../google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}, ...]}}` (or that
 * object inside a one-element array, as the JSON-array stream framing sends it), for operators:
 * status, the ErrorInfo reason when there is one, and the message, sanitised and bounded.
 */
export function describeGeminiError(status: number, body: Uint8Array): string {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return `HTTP ${status} (non-JSON error body, ${body.byteLength} bytes)`;
  }
  const error = field(Array.isArray(payload) ? payload[0] : payload, 'error');
  const parts: string[] = [];
  const code = stringField(error, 'status') ?? numberField(error, 'code');
  if (code !== null) parts.push(String(code));
  const reason = reasonOf(field(error, 'details'));
  if (reason !== null) parts.push(reason);
  const message = typeof error === 'string' ? error : stringField(error, 'message');
  if (message !== null) parts.push(message);
  return sanitiseProviderText(`HTTP ${status}${parts.length > 0 ? `: ${parts.join(' / ')}` : ''}`);
}

function reasonOf(details: unknown): string | null {
  if (!Array.isArray(details)) return null;
  for (const detail of details.slice(0, 16)) {
    const reason = stringField(detail, 'reason');
    if (reason) return reason;
  }
  return null;
}
