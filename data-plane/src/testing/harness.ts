import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { costOf, createLogger, usage, type KeyRecord, type StateStore, type UsageEvent } from '@tollgate/shared';
import { startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.ts';
import type { TestStore } from '../../../test/support/stores.ts';
import { createDataPlane, type DataPlane } from '../server.ts';
import { createCustomer, price, publishTestRoutes } from './fixture.ts';

export const CHANNEL_KEY = `sk-live-SECRET-${randomBytes(16).toString('hex')}`;
export const PRICE = price(150_000_001n, 600_000_003n);
export const USAGE = { promptTokens: 321, completionTokens: 45 };
export const EXPECTED_COST = costOf(usage({ input: USAGE.promptTokens, output: USAGE.completionTokens }), PRICE);
export const HELLO = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });

/**
 * One real data plane over a store adapter, a fake upstream and a log collector, with the helpers
 * the integration suites share. Each suite starts one in beforeAll and stops it in afterAll.
 */
export interface Harness {
  store: StateStore;
  fake: FakeOpenAI;
  dataPlane: DataPlane;
  masterKey: Buffer;
  base: string;
  logLines: string[];
  customer(balance: bigint, record?: Partial<KeyRecord>): ReturnType<typeof customerOf>;
  post(secret: string | null, body: string, signal?: AbortSignal): Promise<Response>;
  /** Reads and acknowledges every usage event not read yet. */
  usageEvents(): Promise<UsageEvent[]>;
  /** Waits for the settlement of one request. */
  settledEvent(requestId: string): Promise<UsageEvent>;
  stop(): Promise<void>;
}

async function customerOf(store: StateStore, base: string, balance: bigint, record: Partial<KeyRecord> = {}) {
  const made = await createCustomer(store, balance, record);
  return { ...made, client: new OpenAI({ apiKey: made.key.secret, baseURL: `${base}/v1`, maxRetries: 0 }) };
}

export async function startHarness(makeStore: () => Promise<TestStore>): Promise<Harness> {
  const masterKey = randomBytes(32);
  const logLines: string[] = [];
  const { store, cleanup } = await makeStore();
  // As the control plane does once everything is published.
  await store.setEpoch('test-epoch');
  const fake = await startFakeOpenAI({ reply: 'Hello there, friend', usage: USAGE });
  // A large output cap: the backpressure suite streams megabytes through an honest upstream.
  await publishTestRoutes(store, masterKey, fake.url, CHANNEL_KEY, PRICE, { timeouts: { firstByteMs: 1_000 } }, 2_000_000);
  const dataPlane = await createDataPlane({
    store, masterKey, port: 0,
    logger: createLogger('data-plane-test', { level: 'debug', write: (line) => logLines.push(line) }),
  });
  const base = `http://127.0.0.1:${dataPlane.port}`;

  const usageEvents = async (): Promise<UsageEvent[]> => {
    const out: UsageEvent[] = [];
    for (;;) {
      const batch = await store.readUsage('test', 100, 0);
      if (batch.length === 0) return out;
      await store.ackUsage(batch.map((d) => d.id));
      out.push(...batch.map((d) => JSON.parse(d.payload) as UsageEvent));
    }
  };

  return {
    store, fake, dataPlane, masterKey, base, logLines, usageEvents,
    customer: (balance, record) => customerOf(store, base, balance, record),
    post: (secret, body, signal) =>
      fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body,
        ...(signal ? { signal } : {}),
      }),
    async settledEvent(requestId) {
      for (let i = 0; i < 100; i++) {
        const found = (await usageEvents()).find((e) => e.requestId === requestId);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no usage event for ${requestId}`);
    },
    async stop() {
      await dataPlane.close();
      await fake.close();
      await cleanup();
    },
  };
}

/** Polls `check` until it holds, for effects that arrive asynchronously (announcements, aborts). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
