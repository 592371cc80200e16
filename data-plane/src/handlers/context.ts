import type { Logger, StateStore } from '@tollgate/shared';
import type { KeyCache } from '../auth/key-cache.ts';
import type { InFlight } from '../http/in-flight.ts';
import type { Settlements } from '../metering/settlements.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import type { RouteTableHolder } from '../routing/route-table.ts';

/** What every handler needs, built once per server. */
export interface GatewayContext {
  store: StateStore;
  keys: KeyCache;
  routes: RouteTableHolder;
  pools: UpstreamPools;
  settlements: Settlements;
  inFlight: InFlight;
  logger: Logger;
  maxBodyBytes: number;
  upstreamHeadersTimeoutMs: number;
  /** Set when close() begins: kept-alive connections may still send requests, which get 503. */
  draining: boolean;
}
