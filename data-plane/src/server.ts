import uWS from 'uWebSockets.js';
import { GatewayError, silentLogger, type Logger, type StateStore } from '@tollgate/shared';
import { KeyCache } from './auth/key-cache.ts';
import { handleChatCompletions } from './handlers/chat.ts';
import type { GatewayContext } from './handlers/context.ts';
import { handleListModels } from './handlers/models.ts';
import { InFlight } from './http/in-flight.ts';
import { Reply } from './http/reply.ts';
import { newRequestId } from './http/request-id.ts';
import { Settlements } from './metering/settlements.ts';
import { UpstreamPools } from './providers/upstream.ts';
import { RouteTableHolder } from './routing/route-table.ts';

export interface DataPlaneOptions {
  store: StateStore;
  masterKey: Buffer;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: Logger;
  /** Time allowed for an upstream's response headers (its first byte). */
  upstreamHeadersTimeoutMs?: number;
  /** Longest silence inside an upstream body, e.g. between stream events. */
  upstreamBodyTimeoutMs?: number;
  maxBodyBytes?: number;
  /** On close, how long requests in flight may take to finish before they are cut. */
  drainGraceMs?: number;
}

export interface DataPlane {
  port: number;
  close(): Promise<void>;
}

const ROUTES: Record<string, Record<string, (ctx: GatewayContext, res: uWS.HttpResponse, req: uWS.HttpRequest) => void>> = {
  '/v1/chat/completions': { post: handleChatCompletions },
  '/v1/models': { get: handleListModels },
};

const HEALTH_PATH = '/healthz';

/**
 * Builds and starts the data plane: loads the route table, subscribes to announcements, listens.
 * It never closes the store it is given; the caller owns it (embedded mode shares it).
 */
export async function createDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const logger = options.logger ?? silentLogger;
  const routes = new RouteTableHolder(options.store, options.masterKey, logger);
  const keys = new KeyCache(options.store);
  const ctx: GatewayContext = {
    store: options.store,
    keys,
    routes,
    pools: new UpstreamPools({
      headersTimeoutMs: options.upstreamHeadersTimeoutMs ?? 60_000,
      bodyTimeoutMs: options.upstreamBodyTimeoutMs ?? 300_000,
    }),
    settlements: new Settlements(options.store, logger),
    inFlight: new InFlight(),
    logger,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    upstreamHeadersTimeoutMs: options.upstreamHeadersTimeoutMs ?? 60_000,
    draining: false,
  };

  const unsubscribe = await options.store.subscribe({
    onAnnouncement(announcement) {
      if (announcement.kind === 'key') keys.invalidate(announcement.hash);
      else if (announcement.version > routes.version) routes.reload().catch((error: unknown) => logger.error('route table reload failed', { error }));
    },
    onResync() {
      keys.clear();
      routes.reload().catch((error: unknown) => logger.error('route table reload failed', { error }));
    },
  });
  try {
    await routes.reload();
  } catch (error) {
    await unsubscribe();
    throw error;
  }

  const app = uWS.App();
  app.any('/*', (res, req) => {
    const path = req.getUrl();
    const method = req.getMethod();
    if (path === HEALTH_PATH && method === 'get') {
      // 503 while starting or draining, so a load balancer sends traffic elsewhere.
      const status = ctx.draining ? 'draining' : routes.loaded ? 'ok' : 'starting';
      new Reply(res).sendJson(status === 'ok' ? 200 : 503, [['x-request-id', newRequestId()]], JSON.stringify({ status }));
      return;
    }
    // The health path is known too: another method on it gets 405, not 404.
    const byMethod = path === HEALTH_PATH ? {} : ROUTES[path];
    const handler = byMethod?.[method];
    if (handler && ctx.draining) {
      new Reply(res).sendError(new GatewayError('unavailable', 'This data plane is shutting down; retry the request.'), [['x-request-id', newRequestId()]]);
      return;
    }
    if (handler) {
      handler(ctx, res, req);
      return;
    }
    const error = byMethod
      ? new GatewayError('method_not_allowed', `Method ${method.toUpperCase()} is not allowed on ${path}.`)
      : new GatewayError('not_found', `No route for ${method.toUpperCase()} ${path}.`);
    new Reply(res).sendError(error, [['x-request-id', newRequestId()]]);
  });

  const host = options.host ?? '127.0.0.1';
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(host, options.port ?? 0, (socket) => (socket ? resolve(socket) : reject(new Error(`data plane cannot listen on ${host}:${options.port ?? 0}`))));
  });
  const port = uWS.us_socket_local_port(listenSocket);

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      // Closing twice would close the listen socket twice, which uWS does not survive.
      closing ??= (async () => {
        // Stop taking requests, let those in flight finish (or cut them after the grace period,
        // which settles them as aborted), then wait until every settlement has reached the store.
        ctx.draining = true;
        uWS.us_listen_socket_close(listenSocket);
        await ctx.inFlight.drain(options.drainGraceMs ?? 30_000);
        await unsubscribe();
        await ctx.settlements.drain();
        await ctx.pools.close();
      })();
      return closing;
    },
  };
}
