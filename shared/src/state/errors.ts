/**
 * Whether an error from the state store means "the store cannot be reached or is not serving"
 * (connection refused or lost, a command timed out, a cluster reconfiguring, a replica loading),
 * as opposed to a bug. Callers answer the first kind with 503 and Retry-After, never with 500 or
 * 401: a valid key is never told it is invalid because infrastructure failed.
 */
const UNAVAILABLE = /Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|enableOfflineQueue|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|Failed to refresh slots cache|None of startup nodes is available/;

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // StorePortClosedError, StoreCallRefusedError: the thread owning an in-process store is gone or
  // not answering (state/remote.ts).
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError' || error.name === 'StorePortClosedError' || error.name === 'StoreCallRefusedError') return true;
  return UNAVAILABLE.test(error.message);
}
