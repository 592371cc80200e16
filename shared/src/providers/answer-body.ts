import { UpstreamFormatError } from './adapter.ts';
import { asRecord, type JsonRecord } from './json.ts';

/**
 * A provider's whole (non-stream) answer body as JSON. A body that is not JSON is the provider's
 * fault, never the client's: it throws UpstreamFormatError, so the attempt fails over.
 */
export function readAnswerJson(body: Uint8Array): unknown {
  try {
    // A view, not a copy (Buffer.from of a Uint8Array copies its bytes).
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new UpstreamFormatError('the provider answered with a body that is not JSON');
  }
}

/** `readAnswerJson` for the answers that must be a JSON object (every OpenAI-shaped one). */
export function readAnswerObject(body: Uint8Array): JsonRecord {
  const payload = asRecord(readAnswerJson(body));
  if (!payload) throw new UpstreamFormatError('the provider answered with JSON that is not an object');
  return payload;
}
