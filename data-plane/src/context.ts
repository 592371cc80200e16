import type { Logger, StateStore } from '@tollgate/shared';
import type { KeyCache } from './auth/key-cache.ts';
import type { DispatchDeps } from './dispatch/dispatcher.ts';
import type { InFlight } from './http/in-flight.ts';
import type { Settlements } from './metering/settlements.ts';
import type { ByokCredentials } from './routing/byok.ts';
import type { RouteTableHolder } from './routing/route-table.ts';

/** What every handler needs, built once per server. */
export interface GatewayContext {
  store: StateStore;
  keys: KeyCache;
  routes: RouteTableHolder;
  byok: ByokCredentials;
  dispatch: DispatchDeps;
  settlements: Settlements;
  inFlight: InFlight;
  logger: Logger;
  maxBodyBytes: number;
  /** Longest a request may take end to end; its hold outlives it by a margin. */
  requestTimeoutMs: number;
  /** Forward provider bytes when the provider speaks the client's format. */
  passthrough: boolean;
  /** Set when close() begins: kept-alive connections may still send requests, which get 503. */
  draining: boolean;
}
