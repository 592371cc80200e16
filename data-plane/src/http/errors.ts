import { GatewayError, isStoreUnavailable } from '@tollgate/shared';
import { StoreNotLoadedError } from '../auth/key-cache.ts';

/**
 * Our error for anything that stopped a request. A state store that cannot be reached (or was
 * wiped and is being republished) is 503 with Retry-After, never 500 and never 401.
 */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isStoreUnavailable(error) || error instanceof StoreNotLoadedError) {
    return new GatewayError('unavailable', "The gateway's state store is unavailable; retry shortly.").withRetryAfter(2);
  }
  return new GatewayError('internal_error', 'Internal error.');
}

