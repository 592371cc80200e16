import { randomBytes } from 'node:crypto';
import { MemoryStateStore, type Logger, type ProviderId, type StateStore } from '@tollgate/shared';
import { createTestDatabase, type TestService } from '../../../test/support/services.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { createControlPlane, type ControlPlane } from '../server.ts';
import { createPlatformAdmin } from '../services/admins.ts';
import type { RateLimits } from '../auth/rate-limit.ts';
import type { QueryLimits } from '../graphql/limits.ts';
import type { StoreWatchOptions } from '../services/store-watch.ts';
import type { EmailOutboxOptions, EmailTransport } from '../services/email.ts';
import type { SmtpSettings } from '../config.ts';

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface Harness {
  database: Database;
  store: StateStore;
  masterKey: Buffer;
  controlPlane: ControlPlane;
  /** A platform admin's management token. */
  token: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResult<T>>;
  /** The same harness acting with another token (null: anonymous). */
  as(token: string | null): Harness;
  /** A raw POST /graphql with the given headers (no token unless given), for status codes and cookies. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  cleanup(): Promise<void>;
}

export type HarnessDatabase = 'postgres' | 'pglite';

/**
 * A migrated test database, a control plane over it, and an admin token: one per suite. Postgres
 * is a fresh database on the test server; PGlite (the embedded default) lives in memory.
 */
export interface HarnessOptions {
  store?: StateStore;
  database?: HarnessDatabase;
  logger?: Logger;
  providerBaseUrls?: Partial<Record<ProviderId, string>>;
  listenerPorts?: number[];
  rateLimits?: RateLimits;
  limits?: Partial<QueryLimits>;
  emailTransport?: EmailTransport;
  smtp?: SmtpSettings;
  emailOutbox?: EmailOutboxOptions;
  storeWatch?: StoreWatchOptions;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const service: TestService | null = options.database === 'pglite' ? null : await createTestDatabase();
  const database = await openDatabase(service ? { databaseUrl: service.url, dataDir: '/nonexistent' } : { inMemory: true });
  await migrate(database);
  const store = options.store ?? new MemoryStateStore();
  const masterKey = randomBytes(32);
  const controlPlane = createControlPlane({
    db: database.db,
    store,
    masterKey,
    graphiql: false,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.providerBaseUrls ? { providerBaseUrls: options.providerBaseUrls } : {}),
    ...(options.listenerPorts ? { listenerPorts: options.listenerPorts } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.emailTransport ? { emailTransport: options.emailTransport } : {}),
    ...(options.smtp ? { smtp: options.smtp } : {}),
    ...(options.emailOutbox ? { emailOutbox: options.emailOutbox } : {}),
    ...(options.storeWatch ? { storeWatch: options.storeWatch } : {}),
  });
  const { token } = await createPlatformAdmin(database.db, `admin-${randomBytes(3).toString('hex')}@example.com`);
  const harness: Harness = {
    database,
    store,
    masterKey,
    controlPlane,
    token,
    async gql(query, variables = {}, auth = token) {
      const response = await controlPlane.yoga.fetch('http://control-plane.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResult<any>;
    },
    async post(body, headers = {}) {
      return await controlPlane.yoga.fetch('http://control-plane.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    as(other) {
      return { ...harness, token: other ?? '', gql: (query, variables, auth = other) => harness.gql(query, variables, auth) };
    },
    async cleanup() {
      await controlPlane.close();
      await store.close();
      await database.close();
      await service?.cleanup();
    },
  };
  return harness;
}

/**
 * Runs a mutation through the errors plugin's result union and returns `{ typename, data, message }`.
 * `selection` is what to select under `data` on success.
 */
export async function mutate(
  harness: Harness,
  field: string,
  inputType: string,
  selection: string,
  input: Record<string, unknown>,
): Promise<{ typename: string; data?: any; message?: string; errors?: GraphQLResult['errors'] }> {
  const success = `Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success`;
  const result = await harness.gql(
    `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } ... on ${success} { data { ${selection} } } } }`,
    { input },
  );
  const payload = result.data?.[field] as { __typename: string; data?: unknown; message?: string } | undefined;
  return { typename: payload?.__typename ?? 'none', data: payload?.data, message: payload?.message, errors: result.errors };
}
