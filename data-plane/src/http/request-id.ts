import { randomBytes } from 'node:crypto';

/** `req_` + 32 hex characters; every response carries one as `x-request-id`. */
export function newRequestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}
