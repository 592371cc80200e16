import { randomBytes } from 'node:crypto';

/** 16 random hex characters per process: no two data planes (or restarts) share a prefix. */
const PREFIX = `req_${randomBytes(8).toString('hex')}`;
let sequence = 0;

/**
 * `req_` + 32 hex characters: ours, unique, the idempotency key of the request's settlement. A
 * random per-process prefix and a counter, so minting one costs no system call (ids are never
 * secrets: they are echoed to the client and only ever name a request we created).
 */
export function newRequestId(): string {
  sequence = (sequence + 1) % 0x1_0000_0000_0000;
  return PREFIX + sequence.toString(16).padStart(16, '0');
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The client's own `x-request-id`, when well formed: echoed back and kept on the usage record for
 * correlation. Never used as our id (a client reusing one must not collide with another request).
 */
export function clientRequestId(header: string): string | null {
  return CLIENT_REQUEST_ID.test(header) ? header : null;
}
