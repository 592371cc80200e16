import uWS from 'uWebSockets.js';
import { GatewayError, silentLogger, type Logger, type ProviderId, type StateStore } from '@tollgate/shared';
import { KeyCache } from './auth/key-cache.ts';
import { anthropicMessagesCodec } from './codecs/anthropic-messages/index.ts';
import { openAIChatCodec } from './codecs/openai-chat/index.ts';
import { openAIResponsesCodec } from './codecs/openai-responses/index.ts';
import type { GatewayContext } from './context.ts';
import { Affinity } from './dispatch/affinity.ts';
import type { AttemptLimits } from './dispatch/attempt.ts';
import { Breakers, DEFAULT_BREAKER, type BreakerSettings } from './dispatch/breaker.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './dispatch/dispatcher.ts';
import { Capacity } from './dispatch/capacity.ts';
import { UpstreamPools } from './dispatch/pools.ts';
import { handleModels } from './handlers/models.ts';
import { AddressSet } from './http/client-ip.ts';
import { InFlight } from './http/in-flight.ts';
import { Reply } from './http/reply.ts';
import { newRequestId } from './http/request-id.ts';
import { DEFAULT_LEASE, InstanceLease, type LeaseSettings } from './metering/instances.ts';
import { DEFAULT_GRACE, StoreOutage, type GraceSettings } from './metering/outage.ts';
import { DEFAULT_JOURNAL, type JournalSettings } from './metering/journal.ts';
import { Settlements } from './metering/settlements.ts';
import { chatOperation } from './operations/chat.ts';
import { completionsOperation } from './operations/completions.ts';
import { countTokensOperation } from './operations/count-tokens.ts';
import { embeddingsOperation } from './operations/embeddings.ts';
import { imagesOperation } from './operations/images.ts';
import { handle, type Endpoint } from './pipeline.ts';
import { ByokCredentials } from './routing/byok.ts';
import { RouteTableHolder } from './routing/route-table.ts';

export interface DataPlaneOptions {
  store: StateStore;
  /**
   * The master key, or the ring: the current key first, then earlier ones whose sealed credentials
   * still open during a rotation (TOLLGATE_MASTER_KEY_PREVIOUS).
   */
  masterKey: Buffer | readonly Buffer[];
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: Logger;
  maxBodyBytes?: number;
  /** Bounds on what an upstream may send (defaults: 32 MiB per answer, 1 MiB per frame, 64 KiB of error body). */
  limits?: Partial<AttemptLimits>;
  /** Longest a request may take end to end (default 10 minutes). */
  requestTimeoutMs?: number;
  breaker?: Partial<BreakerSettings>;
  retry?: Partial<RetryPolicy>;
  /** How long prompt-cache affinity sticks a session to a target (default 5 minutes). */
  affinityTtlMs?: number;
  /** Connections one upstream pool may hold (default 4096); past it, requests are refused, not queued. */
  maxConnectionsPerOrigin?: number;
  /** On close, how long requests in flight may take to finish before they are cut. */
  drainGraceMs?: number;
  /** The instance lease: heartbeat interval and how long a silent instance is presumed dead. */
  lease?: Partial<LeaseSettings>;
  /** While the state store is unreachable: how long, and how much per org, cached keys may still spend. */
  grace?: Partial<GraceSettings>;
  /** Addresses or CIDR ranges of load balancers whose X-Forwarded-For names the client. */
  trustedProxies?: string[];
  /**
   * Where BYOK calls to a provider go instead of its public API (an egress proxy, a regional
   * endpoint; tests point them at local fakes). Operator channels carry their own base URL. The
   * operator's choice, so it may be on a private network; a customer's own endpoint never is.
   */
  providerBaseUrls?: Partial<Record<ProviderId, string>>;
  /**
   * Ports of Tollgate's other listeners on this host (the control plane's). A channel that would
   * connect to one of them, or to this data plane's own port, is a loop and refused.
   */
  listenerPorts?: number[];
  /**
   * Forward a provider's bytes as they came when it speaks the client's format (default on). Off,
   * every answer is rendered from canonical events: slower, identical in meaning (a test pins it).
   */
  passthrough?: boolean;
}

export interface DataPlane {
  port: number;
  /** The version of the route table being served (-1 before the first). */
  routesVersion(): number;
  close(): Promise<void>;
}

type Handler = (ctx: GatewayContext, res: uWS.HttpResponse, req: uWS.HttpRequest) => void;

const CHAT: Endpoint = chatOperation('chat', openAIChatCodec);
const MESSAGES: Endpoint = chatOperation('messages', anthropicMessagesCodec);
const RESPONSES: Endpoint = chatOperation('responses', openAIResponsesCodec);

const ROUTES: Record<string, Record<string, Handler>> = {
  '/v1/chat/completions': { post: (ctx, res, req) => handle(ctx, CHAT, res, req) },
  '/v1/messages': { post: (ctx, res, req) => handle(ctx, MESSAGES, res, req) },
  '/v1/messages/count_tokens': { post: (ctx, res, req) => handle(ctx, countTokensOperation as Endpoint, res, req) },
  '/v1/embeddings': { post: (ctx, res, req) => handle(ctx, embeddingsOperation as Endpoint, res, req) },
  '/v1/completions': { post: (ctx, res, req) => handle(ctx, completionsOperation as Endpoint, res, req) },
  '/v1/images/generations': { post: (ctx, res, req) => handle(ctx, imagesOperation as Endpoint, res, req) },
  '/v1/responses': { post: (ctx, res, req) => handle(ctx, RESPONSES, res, req) },
  '/v1/models': { get: handleModels },
};

/** Routes with a path parameter, matched by prefix after the exact ones. */
const PREFIX_ROUTES: [prefix: string, byMethod: Record<string, Handler>][] = [['/v1/models/', { get: handleModels }]];

function routeFor(path: string): Record<string, Handler> | undefined {
  const exact = ROUTES[path];
  if (exact) return exact;
  for (const [prefix, byMethod] of PREFIX_ROUTES) if (path.length > prefix.length && path.startsWith(prefix)) return byMethod;
  return undefined;
}

const HEALTH_PATH = '/healthz';

/** Settlements kept for replay after a store reset: none over the in-process store (see createDataPlane). */
const NO_JOURNAL: JournalSettings = { windowMs: 0, maxEvents: 0 };

/**
 * Builds and starts the data plane: loads the route table, subscribes to announcements, listens.
 * It never closes the store it is given; the caller owns it (embedded mode shares it).
 */
export async function createDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const logger = options.logger ?? silentLogger;
  const routes = new RouteTableHolder(options.store, options.masterKey, logger);
  const keys = new KeyCache(options.store);
  const byok = new ByokCredentials(options.store, options.masterKey, logger, options.providerBaseUrls ?? {});
  const breakers = new Breakers(options.store, { ...DEFAULT_BREAKER, ...options.breaker }, logger);
  // Filled in with our own port once listening; pools read it at connect time.
  const ownPorts = new Set(options.listenerPorts ?? []);
  // The journal replays settlements into a store that lost its data (Redis restarted empty); the
  // in-process store lives and dies with this process, so there it would only hold memory.
  const settlements = new Settlements(options.store, logger, undefined, options.store.kind === 'memory' ? NO_JOURNAL : DEFAULT_JOURNAL);
  const ctx: GatewayContext = {
    store: options.store,
    keys,
    routes,
    byok,
    dispatch: {
      capacity: new Capacity(),
      pools: new UpstreamPools({ ownPorts, ...(options.maxConnectionsPerOrigin === undefined ? {} : { maxConnections: options.maxConnectionsPerOrigin }) }),
      limits: { maxResponseBytes: 32 * 1024 * 1024, maxFrameChars: 1024 * 1024, maxErrorBodyBytes: 64 * 1024, ...options.limits },
      breakers,
      affinity: new Affinity(options.store, options.affinityTtlMs ?? 5 * 60_000, logger),
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger,
    },
    settlements,
    lease: new InstanceLease(options.store, { ...DEFAULT_LEASE, ...options.lease }, logger, settlements),
    outage: new StoreOutage({ ...DEFAULT_GRACE, ...options.grace }),
    inFlight: new InFlight(),
    logger,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    requestTimeoutMs: options.requestTimeoutMs ?? 600_000,
    passthrough: options.passthrough ?? true,
    trustedProxies: options.trustedProxies && options.trustedProxies.length > 0 ? new AddressSet(options.trustedProxies) : null,
    draining: false,
  };
  const reloadRoutes = (): void => {
    routes.reload().catch((error: unknown) => logger.error('route table reload failed', { error }));
  };

  const unsubscribe = await options.store.subscribe({
    onAnnouncement(announcement) {
      switch (announcement.kind) {
        case 'key':
          keys.invalidate(announcement.hash);
          break;
        case 'routes':
          if (announcement.version > routes.version) reloadRoutes();
          break;
        case 'byok':
          byok.invalidate(announcement.orgId, announcement.provider);
          break;
        case 'breaker':
          breakers.refresh(announcement.channelId, Date.now()).catch((error: unknown) => logger.warn('breaker refresh failed', { error }));
          break;
      }
    },
    onResync() {
      keys.clear();
      byok.clear();
      breakers.clear();
      reloadRoutes();
    },
  });
  try {
    await routes.reload();
    await ctx.lease.start();
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
    const byMethod = path === HEALTH_PATH ? {} : routeFor(path);
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
  ownPorts.add(port);

  let closing: Promise<void> | null = null;
  return {
    port,
    routesVersion: () => routes.version,
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
        await ctx.lease.stop();
        await ctx.dispatch.pools.close();
      })();
      return closing;
    },
  };
}
