import { masterKeyRing, silentLogger, type Logger, type MasterKeyRing, type ProviderId, type StateStore } from '@tollgate/shared';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, NoSchemaIntrospectionCustomRule, parse } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { Access } from './auth/principal.ts';
import { ForbiddenError } from './errors.ts';
import { defaultRateLimits, type RateLimits } from './auth/rate-limit.ts';
import type { Db } from './db/connect.ts';
import type { Context } from './graphql/context.ts';
import { authPlugin, type RequestAuth, type ServerContext } from './graphql/http-auth.ts';
import { DEFAULT_LIMITS, limitsRule, type QueryLimits } from './graphql/limits.ts';
import { schema } from './graphql/schema.ts';
import type { SmtpSettings } from './config.ts';
import { EmailOutbox, logTransport, type EmailOutboxOptions, type EmailTransport } from './services/email.ts';
import { smtpTransport } from './services/smtp.ts';
import { upgradeLegacyData } from './services/legacy-upgrade.ts';
import { assignMissingSlugs } from './services/orgs.ts';
import { PublicationOutbox } from './services/outbox.ts';
import { Publisher } from './services/publisher.ts';
import type { ServiceContext } from './services/context.ts';
import { StoreWatch, type StoreWatchOptions } from './services/store-watch.ts';
import { UsageConsumer } from './services/usage-consumer.ts';

export interface ControlPlaneOptions {
  db: Db;
  store: StateStore;
  /** The master key ring; a single key is a ring of one. */
  masterKey: Buffer | MasterKeyRing;
  logger?: Logger;
  /** GraphiQL at GET /graphql; defaults to on unless NODE_ENV=production. */
  graphiql?: boolean;
  /** Introspection and "did you mean" suggestions; default to on unless NODE_ENV=production. */
  introspection?: boolean;
  /** Origins allowed to call the API from a browser with credentials (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** Where links in emails point (the console); defaults to http://127.0.0.1:4000. */
  publicUrl?: string;
  /** Where emails go: this transport, else SMTP when `smtp` is set, else the log. */
  emailTransport?: EmailTransport;
  smtp?: SmtpSettings | null;
  /** Retries and backoff of the email outbox. */
  emailOutbox?: EmailOutboxOptions;
  limits?: Partial<QueryLimits>;
  rateLimits?: RateLimits;
  /** Name of this process in the usage stream's consumer group. */
  consumerName?: string;
  /** See UsageConsumerOptions.claimIdleMs. */
  consumerClaimIdleMs?: number;
  /** How often the store is checked for a reset (its data lost) and undebited usage swept. */
  storeWatch?: StoreWatchOptions;
  /** Where BYOK test calls go instead of a provider's catalogue base URL (tests, egress proxies). */
  providerBaseUrls?: Partial<Record<ProviderId, string>>;
  /** Ports Tollgate listens on (this API, the data plane): channels may not point at them. */
  listenerPorts?: readonly number[];
}

export interface ControlPlane {
  yoga: YogaServerInstance<ServerContext, Context>;
  publisher: Publisher;
  outbox: PublicationOutbox;
  email: EmailOutbox;
  consumer: UsageConsumer;
  storeWatch: StoreWatch;
  /** What services need outside a request (the CLI over the control socket, `apply`). */
  services: ServiceContext;
  /** Converts data from before routing v2, publishes every snapshot, then starts consuming usage. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const GRAPHIQL_QUERY = `# Tollgate's GraphQL API.
# Authenticate first: open "Headers" below and paste
#   { "authorization": "Bearer tgm_..." }
# with a management token (tollgate admin create prints the first one; createManagementToken makes more).
{
  viewer { email isPlatformAdmin }
}
`;

/** In production, validation errors lose graphql-js's "Did you mean ...?" hints, which leak field names. */
function noSuggestions(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(result.map((error) => new GraphQLError(error.message.replace(/ ?Did you mean .*\?$/, ''), { extensions: error.extensions })));
      };
    },
  };
}

function limitsPlugin(limits: QueryLimits, introspection: boolean): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(limitsRule(limits));
      if (!introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** Set-Cookie headers the resolvers asked for (sign-in, sign-out). */
function cookiesPlugin(cookies: WeakMap<Request, string[]>): Plugin {
  return {
    onResponse({ request, response }) {
      for (const value of cookies.get(request) ?? []) response.headers.append('set-cookie', value);
    },
  };
}

/** Builds the control plane; listening is `http.ts`'s job, reading config `main.ts`'s. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const logger = options.logger ?? silentLogger;
  const production = process.env.NODE_ENV === 'production';
  const ring = Buffer.isBuffer(options.masterKey) ? masterKeyRing(options.masterKey, [], 'env') : options.masterKey;
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const introspection = options.introspection ?? !production;
  const rateLimits = options.rateLimits ?? defaultRateLimits();
  const publisher = new Publisher(options.db, options.store, logger.child({ component: 'publisher' }));
  const outbox = new PublicationOutbox(options.db, publisher, logger.child({ component: 'outbox' }));
  const storeWatch = new StoreWatch(options.db, options.store, publisher, logger.child({ component: 'store-watch' }), options.storeWatch ?? {});
  const emailLogger = logger.child({ component: 'email' });
  const email = new EmailOutbox(
    options.db,
    options.emailTransport ?? (options.smtp ? smtpTransport(options.smtp) : logTransport(emailLogger)),
    emailLogger,
    options.emailOutbox,
  );
  const consumer = new UsageConsumer({
    db: options.db,
    store: options.store,
    logger: logger.child({ component: 'usage-consumer' }),
    ...(options.consumerName ? { consumerName: options.consumerName } : {}),
    ...(options.consumerClaimIdleMs ? { claimIdleMs: options.consumerClaimIdleMs } : {}),
  });
  const services: ServiceContext = {
    db: options.db,
    masterKey: ring.current,
    masterKeys: ring,
    publisher,
    outbox,
    store: options.store,
    logger,
    ...(options.providerBaseUrls ? { providerBaseUrls: options.providerBaseUrls } : {}),
    listenerPorts: new Set(options.listenerPorts ?? []),
  };
  const auth = new WeakMap<Request, RequestAuth>();
  const cookies = new WeakMap<Request, string[]>();
  const corsOrigins = new Set(options.corsOrigins ?? []);
  const graphiql = options.graphiql ?? !production;

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: graphiql ? { title: 'Tollgate GraphQL', defaultQuery: GRAPHIQL_QUERY, headers: '{ "authorization": "Bearer tgm_..." }' } : false,
    // Served from the npm package, so GraphiQL works offline (yoga's default loads it from a CDN);
    // loaded on the first request for it, as its bundle holds tens of MB in memory (and none with
    // GraphiQL off, as in production).
    renderGraphiQL: async (graphiqlOptions) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiqlOptions),
    landingPage: false,
    logging: false,
    maxRequestBodySize: limits.maxBodyBytes,
    // Browsers may call from the allowed origins only; without an allowlist, no CORS headers at all.
    // (An empty origin list would mean "any origin" to the CORS plugin, so a refused origin is
    // answered with an allowed one, which the browser rejects as a mismatch.)
    cors:
      corsOrigins.size === 0
        ? false
        : (request) => {
            const origin = request.headers.get('origin');
            return {
              origin: origin && corsOrigins.has(origin) ? origin : [...corsOrigins][0]!,
              credentials: true,
              allowedHeaders: ['content-type', 'authorization', 'x-tollgate-csrf'],
              methods: ['GET', 'POST'],
            };
          },
    plugins: [
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-tollgate-csrf'] }),
      authPlugin({ db: options.db, rateLimits, maxAnonymousTokens: limits.maxAnonymousTokens, auth }),
      limitsPlugin(limits, introspection),
      ...(introspection ? [] : [noSuggestions()]),
      cookiesPlugin(cookies),
    ],
    context: ({ request }) => {
      const state = auth.get(request) ?? { principal: null, ip: null };
      const setCookies: string[] = [];
      cookies.set(request, setCookies);
      return {
        ...services,
        access: new Access(options.db, state.principal),
        user: state.principal?.user ?? null,
        request: { ip: state.ip, userAgent: request.headers.get('user-agent'), secure: new URL(request.url).protocol === 'https:' },
        publicUrl: options.publicUrl ?? 'http://127.0.0.1:4000',
        email,
        rateLimits,
        setCookies,
      };
    },
    maskedErrors: {
      // Unexpected errors reach the client as "Unexpected error."; the log keeps the detail
      // (the logger redacts anything shaped like a secret).
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original && !(original instanceof GraphQLError)) {
          // Authorization failures outside a result union (queries): typed by their code, not masked.
          if (original instanceof ForbiddenError) {
            const located = error instanceof GraphQLError ? error : null;
            return new GraphQLError(original.message, { nodes: located?.nodes ?? null, path: located?.path ?? null, extensions: { code: 'FORBIDDEN' } });
          }
          logger.error('graphql request failed', { error: original });
        }
        return maskError(error, message, isDev);
      },
    },
  });
  return {
    yoga,
    publisher,
    outbox,
    email,
    consumer,
    storeWatch,
    services,
    async start() {
      // Before anything is published: the data plane must never see a row in its old form.
      await upgradeLegacyData(options.db, ring.current, logger.child({ component: 'upgrade' }));
      await assignMissingSlugs(services);
      await publisher.publishAll();
      // Rows a crash left between a commit and its publication.
      await outbox.deliver();
      outbox.start();
      if (!options.emailTransport) {
        emailLogger.info(options.smtp ? `emails are sent through SMTP at ${options.smtp.host}:${options.smtp.port} from ${options.smtp.from}` : 'emails are written to this log (set TOLLGATE_SMTP_URL to send them)');
      }
      void email.deliver();
      email.start();
      consumer.start();
      storeWatch.start();
    },
    async close() {
      await storeWatch.close();
      publisher.close();
      await outbox.close();
      await email.close();
      await consumer.close();
    },
  };
}
