import { randomBytes } from 'node:crypto';

/** `req_` + 32 hex characters: ours, unique, the idempotency key of the request's settlement. */
export function newRequestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The client's own `x-request-id`, when well formed: echoed back and kept on the usage record for
 * correlation. Never used as our id (a client reusing one must not collide with another request).
 */
export function clientRequestId(header: string): string | null {
  return CLIENT_REQUEST_ID.test(header) ? header : null;
}
