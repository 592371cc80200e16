import { guardedConnector, type Resolve } from '@tollgate/shared';
import { buildConnector, Pool } from 'undici';

/** Connections one pool may hold; past it, callers are refused (no hidden queue in undici). */
const MAX_CONNECTIONS_PER_POOL = 4096;

export interface PoolOptions {
  maxConnections?: number;
  /** Ports Tollgate listens on; an address of this host with one of them is a loop (read at connect time). */
  ownPorts?: ReadonlySet<number>;
  /** Name resolution for upstream connections (tests inject their own); default dns.lookup. */
  resolve?: Resolve;
}

/**
 * One undici pool per upstream origin (and connect timeout and network policy, both fixed per
 * pool), shared by every request to it, closed with the server. HTTP/1.1 carries one request per
 * connection, so a pool's size is the number of concurrent calls it can make: `acquire` refuses
 * past that rather than letting undici queue requests silently (a 128-connection pool once held
 * 872 of 1,000 streams waiting for 132 s). Every new connection goes through the guarded
 * connector, which refuses addresses the policy does not allow; requests on an open connection
 * pay nothing for it. undici's Pool never follows a redirect.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { pool: Pool; inFlight: number }>();
  private readonly ownPorts: ReadonlySet<number>;

  constructor(private readonly options: PoolOptions = {}) {
    this.ownPorts = options.ownPorts ?? new Set();
  }

  acquire(origin: string, connectTimeoutMs: number, allowPrivateNetwork: boolean): { pool: Pool; release(): void } | null {
    const key = `${origin}|${connectTimeoutMs}|${allowPrivateNetwork ? 'private' : 'public'}`;
    let entry = this.pools.get(key);
    const max = this.options.maxConnections ?? MAX_CONNECTIONS_PER_POOL;
    if (!entry) {
      const network = { allowPrivateNetwork, ownPorts: this.ownPorts };
      entry = {
        pool: new Pool(origin, {
          connections: max,
          pipelining: 1,
          connect: guardedConnector(network, (lookup) => buildConnector({ timeout: connectTimeoutMs, noDelay: true, lookup }), this.options.resolve),
          keepAliveTimeout: 30_000,
          // Bounds on what an upstream may send us: header size and count.
          maxHeaderSize: 64 * 1024,
        }),
        inFlight: 0,
      };
      this.pools.set(key, entry);
    }
    if (entry.inFlight >= max) return null;
    entry.inFlight++;
    const held = entry;
    let released = false;
    return {
      pool: held.pool,
      release() {
        if (released) return;
        released = true;
        held.inFlight--;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((entry) => entry.pool.close()));
    this.pools.clear();
  }
}
