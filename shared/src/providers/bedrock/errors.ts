import { field } from '../json.ts';
import { sanitiseProviderText } from '../sanitise.ts';

/**
 * Bedrock's error body, for operators. AWS's JSON protocol answers `{"message": "..."}` (some
 * front ends `{"Message": ...}`), and names the error type in the `x-amzn-ErrorType` header
 * (`ValidationException`, `ThrottlingException`, `AccessDeniedException`, ...), sometimes also as
 * `__type` in the body. describeError gets the body only, so the type shows when the body has it;
 * the status tells the rest (400 validation, 403 access, 404 model, 408 model timeout, 424 model
 * error, 429 throttling, 500 internal, 503 unavailable).
 */
export function describeBedrockError(status: number, body: Uint8Array): string {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return `HTTP ${status} (non-JSON error body, ${body.byteLength} bytes)`;
  }
  const parts: string[] = [];
  const type = field(payload, '__type') ?? field(payload, 'code');
  // `__type` may be namespaced (`com.amazon.bedrock#ValidationException`) or carry a URL after `:`.
  if (typeof type === 'string') parts.push(type.replace(/^.*#/, '').replace(/:.*$/, ''));
  const message = field(payload, 'message') ?? field(payload, 'Message');
  if (typeof message === 'string') parts.push(message);
  return sanitiseProviderText(`HTTP ${status}${parts.length > 0 ? `: ${parts.join(' / ')}` : ''}`);
}
