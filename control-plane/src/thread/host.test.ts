import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { masterKeyRing, MemoryStateStore, usage, type UsageEvent } from '@tollgate/shared';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { startSmtpServer } from '../../../test/fakes/smtp.ts';
import { readConfig } from '../config.ts';
import { controlSocketPath, createAdminViaSocket } from '../control-socket.ts';
import { openDatabase } from '../db/connect.ts';
import { usageRecords } from '../db/schema/index.ts';
import { ledgerBalance } from '../services/ledger.ts';
import { startControlPlaneThread } from './host.ts';

// Embedded mode's control plane in its worker thread, against a store owned by this (the test's
// main) thread, as main.ts runs it beside the data plane.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function embeddedConfig(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-thread-'));
  dirs.push(dataDir);
  return readConfig({ TOLLGATE_DATA_DIR: dataDir, CONTROL_PLANE_PORT: '0', DATA_PLANE_PORT: '0', TOLLGATE_LOG_LEVEL: 'warn', ...env });
}

const usageEvent = (orgId: string, cost: bigint): UsageEvent => ({
  v: 2, requestId: `req_${randomUUID()}`, clientRequestId: null, orgId, keyId: randomUUID(), model: 'gpt-4o-mini', tier: 'resale', lane: null,
  provider: 'openai', channelId: randomUUID(), byokCredentialId: null, upstreamModel: 'gpt-4o-mini-2024', endpoint: '/v1/chat/completions',
  stream: false, usage: usage({ input: 10, output: 5 }), usageSource: 'reported', chargeKind: 'usage', cost: cost.toString(), providerCost: '0',
  hold: cost.toString(), overHold: false, attempts: [], startedAt: Date.now(), latencyMs: 3, status: 'ok', httpStatus: 200, errorCode: null,
});

describe('the control plane in a worker thread', () => {
  it('publishes into and consumes from the main thread\'s store, and on close writes every event left in the stream', async () => {
    const config = embeddedConfig();
    const store = new MemoryStateStore();
    const lines: string[] = [];
    const thread = await startControlPlaneThread({
      config, ring: masterKeyRing(randomBytes(32), [], 'env'), store, log: (line) => lines.push(line),
      onFailure: (error) => lines.push(`failure: ${error.message}`),
    });
    let closed = false;
    try {
      // Everything was published into this thread's store before the epoch was set.
      expect(await store.getEpoch()).not.toBeNull();
      // The CLI's socket and the API are served from the worker.
      const { token } = await createAdminViaSocket(controlSocketPath(config.dataDir), 'ops@example.com');
      const gql = async (query: string, variables: Record<string, unknown>) => {
        const response = await fetch(`http://127.0.0.1:${thread.httpPort}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        return ((await response.json()) as { data: Record<string, { data: { id: string } }> }).data;
      };
      const orgId = (await gql('mutation($input: CreateOrgInput!) { createOrg(input: $input) { ... on MutationCreateOrgSuccess { data { id } } } }', { input: { name: 'Threaded' } })).createOrg!.data.id;
      await gql('mutation($input: CreditOrgInput!) { creditOrg(input: $input) { ... on MutationCreditOrgSuccess { data { id } } } }', {
        input: { orgId, amount: '1', reason: 'start', idempotencyKey: `start-${orgId}` },
      });
      await expect.poll(() => store.getBalance(orgId), { timeout: 10_000 }).toEqual({ balance: 1_000_000_000n, held: 0n });

      // Settled here, as the data plane settles them, right before the shutdown.
      const events = Array.from({ length: 300 }, (_, i) => usageEvent(orgId, BigInt(i + 1)));
      for (const event of events) await store.settle({ event, consumption: [] });
      await thread.close();
      closed = true;
      expect(await store.unconsumedUsage(10)).toEqual([]);
      expect(lines.filter((line) => line.startsWith('failure'))).toEqual([]);

      const database = await openDatabase({ dataDir: config.dataDir });
      try {
        const records = await database.db.select({ requestId: usageRecords.requestId }).from(usageRecords).where(eq(usageRecords.orgId, orgId));
        expect(records).toHaveLength(events.length);
        const total = events.reduce((sum, e) => sum + BigInt(e.cost), 0n);
        expect(await ledgerBalance(database.db, orgId)).toBe(1_000_000_000n - total);
      } finally {
        await database.close();
      }
    } finally {
      if (!closed) await thread.close();
      await store.close();
    }
  }, 120_000);

  it('fails to start with the worker\'s own error', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const store = new MemoryStateStore();
      const starting = startControlPlaneThread({
        config: embeddedConfig({ CONTROL_PLANE_PORT: String(port) }), ring: masterKeyRing(randomBytes(32), [], 'env'), store,
        log: () => {}, onFailure: () => {},
      });
      await expect(starting).rejects.toThrow(/EADDRINUSE/);
      await store.close();
    } finally {
      taken.close();
    }
  }, 120_000);

  it('sends email through the SMTP server TOLLGATE_SMTP_URL names', async () => {
    const smtp = await startSmtpServer({ users: { mailer: 'thread-smtp-pw' } });
    const config = embeddedConfig({ TOLLGATE_SMTP_URL: `smtp://mailer:thread-smtp-pw@127.0.0.1:${smtp.port}`, TOLLGATE_EMAIL_FROM: 'Tollgate <noreply@tollgate.test>' });
    const store = new MemoryStateStore();
    const lines: string[] = [];
    const thread = await startControlPlaneThread({ config, ring: masterKeyRing(randomBytes(32), [], 'env'), store, log: (line) => lines.push(line), onFailure: () => {} });
    try {
      await createAdminViaSocket(controlSocketPath(config.dataDir), 'ops@example.com');
      const response = await fetch(`http://127.0.0.1:${thread.httpPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { __typename } }', variables: { i: { email: 'ops@example.com' } } }),
      });
      expect(await response.json()).toEqual({ data: { requestPasswordReset: { __typename: 'MutationRequestPasswordResetSuccess' } } });
      await expect.poll(() => smtp.messages.length, { timeout: 20_000, interval: 200 }).toBe(1);
      expect(smtp.messages.map((m) => ({ from: m.from, to: m.to, user: m.user, subject: m.subject }))).toEqual([
        { from: 'noreply@tollgate.test', to: ['ops@example.com'], user: 'mailer', subject: 'Reset your Tollgate password' },
      ]);
      expect(lines.some((line) => line.includes('emails are sent through SMTP at 127.0.0.1'))).toBe(true);
      expect(lines.some((line) => line.includes('thread-smtp-pw'))).toBe(false);
    } finally {
      await thread.close();
      await store.close();
      await smtp.close();
    }
  }, 120_000);
});
