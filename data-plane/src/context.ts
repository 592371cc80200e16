import type { Logger, StateStore } from '@tollgate/shared';
import type { KeyCache } from './auth/key-cache.ts';
import type { DispatchDeps } from './dispatch/dispatcher.ts';
import type { AddressSet } from './http/client-ip.ts';
import type { InFlight } from './http/in-flight.ts';
import type { InstanceLease } from './metering/instances.ts';
import type { StoreOutage } from './metering/outage.ts';
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
  /** This data plane's lease: its id goes into every intent. */
  lease: InstanceLease;
  /** Whether the state store is reachable, and the local grace allowance while it is not. */
  outage: StoreOutage;
  inFlight: InFlight;
  logger: Logger;
  maxBodyBytes: number;
  /** Longest a request may take end to end; its hold outlives it by a margin. */
  requestTimeoutMs: number;
  /** Forward provider bytes when the provider speaks the client's format. */
  passthrough: boolean;
  /** Proxies whose X-Forwarded-For is believed for the client's address; null: none. */
  trustedProxies: AddressSet | null;
  /** Set when close() begins: kept-alive connections may still send requests, which get 503. */
  draining: boolean;
}
