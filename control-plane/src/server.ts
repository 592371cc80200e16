import { silentLogger, type Logger, type ProviderId, type StateStore } from '@tollgate/shared';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import type { Db } from './db/connect.ts';
import { authenticate } from './graphql/auth.ts';
import type { Context } from './graphql/context.ts';
import { schema } from './graphql/schema.ts';
import { upgradeLegacyData } from './services/legacy-upgrade.ts';
import { Publisher } from './services/publisher.ts';
import { UsageConsumer } from './services/usage-consumer.ts';

export interface ControlPlaneOptions {
  db: Db;
  store: StateStore;
  masterKey: Buffer;
  logger?: Logger;
  /** GraphiQL at GET /graphql; defaults to on unless NODE_ENV=production. */
  graphiql?: boolean;
  /** Name of this process in the usage stream's consumer group. */
  consumerName?: string;
  /** Where BYOK test calls go instead of a provider's catalogue base URL (tests, egress proxies). */
  providerBaseUrls?: Partial<Record<ProviderId, string>>;
}

export interface ControlPlane {
  yoga: YogaServerInstance<Record<string, never>, Context>;
  publisher: Publisher;
  consumer: UsageConsumer;
  /** Converts data from before routing v2, publishes every snapshot, then starts consuming usage. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the control plane; listening is `http.ts`'s job, reading config `main.ts`'s. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const logger = options.logger ?? silentLogger;
  const publisher = new Publisher(options.db, options.store, logger.child({ component: 'publisher' }));
  const consumer = new UsageConsumer({
    db: options.db,
    store: options.store,
    logger: logger.child({ component: 'usage-consumer' }),
    ...(options.consumerName ? { consumerName: options.consumerName } : {}),
  });
  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: options.graphiql ?? process.env.NODE_ENV !== 'production',
    landingPage: false,
    logging: false,
    context: async ({ request }) => ({
      db: options.db,
      user: await authenticate(options.db, request.headers.get('authorization')),
      masterKey: options.masterKey,
      publisher,
      logger,
      ...(options.providerBaseUrls ? { providerBaseUrls: options.providerBaseUrls } : {}),
    }),
    maskedErrors: {
      // Unexpected errors reach the client as "Unexpected error."; the log keeps the detail
      // (the logger redacts anything shaped like a secret).
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original && !(original instanceof GraphQLError)) logger.error('graphql request failed', { error: original });
        return maskError(error, message, isDev);
      },
    },
  });
  return {
    yoga,
    publisher,
    consumer,
    async start() {
      // Before anything is published: the data plane must never see a row in its old form.
      await upgradeLegacyData(options.db, options.masterKey, logger.child({ component: 'upgrade' }));
      await publisher.publishAll();
      consumer.start();
    },
    async close() {
      publisher.close();
      await consumer.close();
    },
  };
}
