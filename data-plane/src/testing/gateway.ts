import { randomBytes } from 'node:crypto';
import {
  byokCredentialAad,
  createLogger,
  encodeCredential,
  generateSecret,
  sealSecret,
  type KeyRecord,
  type ProviderId,
  type StateStore,
  type UsageEvent,
} from '@tollgate/shared';
import type { TestStore } from '../../../test/support/stores.ts';
import { createDataPlane, type DataPlane, type DataPlaneOptions } from '../server.ts';
import { createCustomer, routeTable } from './fixture.ts';

/**
 * A real data plane over a store, for routing suites that publish their own route tables and
 * point channels at their own fake upstreams (test/fakes/upstream.ts).
 */
export interface Gateway {
  store: StateStore;
  dataPlane: DataPlane;
  masterKey: Buffer;
  base: string;
  logLines: string[];
  /** Publishes a route table and waits until the data plane serves it. */
  publish(parts: Parameters<typeof routeTable>[0]): Promise<void>;
  customer(balance: bigint, record?: Partial<KeyRecord>): ReturnType<typeof createCustomer>;
  /** Another key of an existing org. */
  createKey(orgId: string, record?: Partial<KeyRecord>): Promise<ReturnType<typeof generateSecret>>;
  /** Stores a BYOK credential for an org, as the control plane publishes it. */
  byok(orgId: string, provider: ProviderId, apiKey: string): Promise<string>;
  post(secret: string, body: unknown, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  /** Waits for the settlement of one request (by our request id or the client's). */
  settled(requestId: string): Promise<UsageEvent>;
  stop(): Promise<void>;
}

export async function startGateway(makeStore: () => Promise<TestStore>, options: Partial<DataPlaneOptions> = {}): Promise<Gateway> {
  const masterKey = randomBytes(32);
  const logLines: string[] = [];
  const { store, cleanup } = await makeStore();
  // As the control plane does once everything is published.
  await store.setEpoch('test-epoch');
  const dataPlane = await createDataPlane({
    store,
    masterKey,
    port: 0,
    logger: createLogger('gateway-test', { level: 'debug', write: (line) => logLines.push(line) }),
    ...options,
  });
  const base = `http://127.0.0.1:${dataPlane.port}`;
  const seen: UsageEvent[] = [];
  const drain = async (): Promise<void> => {
    for (;;) {
      const batch = await store.readUsage(`gateway-${dataPlane.port}`, 200, 0);
      if (batch.length === 0) return;
      await store.ackUsage(batch.map((d) => d.id));
      seen.push(...batch.map((d) => JSON.parse(d.payload) as UsageEvent));
    }
  };
  return {
    store,
    dataPlane,
    masterKey,
    base,
    logLines,
    async publish(parts) {
      const table = routeTable(parts);
      await store.putRouteTable(table);
      // The announcement reloads the table asynchronously: wait until requests see it.
      for (let i = 0; i < 200; i++) {
        if (dataPlane.routesVersion() === table.version) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('route table not loaded in time');
    },
    customer: (balance, record) => createCustomer(store, balance, record),
    async createKey(orgId, record = {}) {
      const key = generateSecret('api_key');
      await store.putKeyRecord(key.hash, { v: 2, id: `key-${randomBytes(4).toString('hex')}`, orgId, defaultTier: 'resale', status: 'active', expiresAt: null, allowedTiers: null, planId: null, ...record });
      return key;
    },
    async byok(orgId, provider, apiKey) {
      const id = `byok-${randomBytes(4).toString('hex')}`;
      await store.putByokRecord(orgId, provider, {
        v: 1, id, orgId, provider,
        credentialSealed: sealSecret(masterKey, encodeCredential({ kind: 'api_key', apiKey }), byokCredentialAad(orgId, id)),
      });
      return id;
    },
    post: (secret, body, headers = {}, signal) =>
      fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...(signal ? { signal } : {}),
      }),
    async settled(requestId) {
      for (let i = 0; i < 250; i++) {
        await drain();
        const found = seen.find((e) => e.requestId === requestId || e.clientRequestId === requestId);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no usage event for ${requestId}`);
    },
    async stop() {
      await dataPlane.close();
      await cleanup();
    },
  };
}
