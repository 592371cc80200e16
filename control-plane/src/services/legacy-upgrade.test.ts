import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelCredentialAad, decodeCredential, MemoryStateStore, openSecret, seal } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestService } from '../../../test/support/services.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { migrate, MIGRATIONS_FOLDER } from '../db/migrate.ts';
import { createControlPlane } from '../server.ts';
import { captureLogger } from '../testing/fixtures.ts';
import { rowsOf } from './ledger.ts';
import { upgradeLegacyData } from './legacy-upgrade.ts';

/** The database as the first release left it: only the initial migration applied. */
async function migrateToFirstRelease(database: Database): Promise<void> {
  const first = readdirSync(MIGRATIONS_FOLDER).sort()[0]!;
  const folder = mkdtempSync(join(tmpdir(), 'tollgate-migrations-'));
  try {
    cpSync(join(MIGRATIONS_FOLDER, first), join(folder, first), { recursive: true });
    const { driver } = database;
    if (driver.kind === 'postgres') await migratePg(drizzlePg({ client: driver.pool }), { migrationsFolder: folder });
    else await migratePglite(drizzlePglite({ client: driver.client }), { migrationsFolder: folder });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const RESALE_KEY = 'sk-legacy-resale-key-1111';
const CHEAP_KEY = 'sk-legacy-cheap-key-2222';
const BYOK_KEY = 'sk-legacy-byok-key-3333';

describe.each(['postgres', 'pglite'] as const)('upgrading data from before routing v2 over %s', (kind) => {
  let service: TestService | null = null;
  let database: Database;
  const masterKey = randomBytes(32);
  const ids = { org: randomUUID(), key: randomUUID(), resale: randomUUID(), cheap: randomUUID(), byok: randomUUID(), model: randomUUID(), lonely: randomUUID() };
  const logs: string[] = [];
  const now = Date.now();

  beforeAll(async () => {
    service = kind === 'postgres' ? await createTestDatabase() : null;
    database = await openDatabase(service ? { databaseUrl: service.url, dataDir: '/nonexistent' } : { inMemory: true });
    await migrateToFirstRelease(database);
    const db = database.db;
    const channel = (id: string, name: string, key: string, tier: string) =>
      db.execute(sql`insert into provider_channels (id, name, protocol, base_url, api_key_sealed, api_key_last4, tier)
        values (${id}, ${name}, 'openai', 'https://upstream.example/v1', ${seal(masterKey, key, channelCredentialAad(id))}, ${key.slice(-4)}, ${tier})`);
    await db.execute(sql`insert into orgs (id, name, default_tier) values (${ids.org}, 'Old Org', 'resale')`);
    await db.execute(sql`insert into api_keys (id, org_id, name, key_hash, prefix, last4) values (${ids.key}, ${ids.org}, 'k', 'hash-legacy', 'tg_abcd', 'wxyz')`);
    await channel(ids.resale, 'old-resale', RESALE_KEY, 'resale');
    await channel(ids.cheap, 'old-cheap', CHEAP_KEY, 'cheap');
    await channel(ids.byok, 'old-byok', BYOK_KEY, 'byok');
    await db.execute(sql`insert into models (id, name) values (${ids.model}, 'old-model'), (${ids.lonely}, 'lonely-model')`);
    for (const channelId of [ids.resale, ids.cheap, ids.byok]) {
      await db.execute(sql`insert into model_targets (model_id, channel_id, upstream_model) values (${ids.model}, ${channelId}, 'upstream-old')`);
    }
    const price = (modelId: string, cost: number, sell: number, at: Date) =>
      db.execute(sql`insert into model_prices (model_id, input_cost_per_million, output_cost_per_million, input_price_per_million, output_price_per_million, effective_from)
        values (${modelId}, ${String(cost)}, ${String(cost * 2)}, ${String(sell)}, ${String(sell * 2)}, ${at.toISOString()})`);
    await price(ids.model, 100, 150, new Date(now - 86_400_000));
    await price(ids.model, 200, 300, new Date(now - 3_600_000));
    await price(ids.model, 900, 999, new Date(now + 86_400_000));
    await price(ids.lonely, 10, 20, new Date(now - 1000));
    await db.execute(sql`insert into usage_records (request_id, org_id, api_key_id, model, tier, channel_id, upstream_model, stream, input_tokens, output_tokens, usage_source, cost, status, http_status, latency_ms, started_at)
      values ('req_legacy', ${ids.org}, ${ids.key}, 'old-model', 'resale', ${ids.resale}, 'upstream-old', false, 2000000000, 7, 'reported', 123, 'ok', 200, 5, now())`);

    await migrate(database);
    const store = new MemoryStateStore();
    const controlPlane = createControlPlane({ db, store, masterKey, logger: captureLogger(logs), graphiql: false });
    await controlPlane.start();
    expect(Object.keys((await store.getRouteTable())!.channels).sort()).toEqual([ids.resale, ids.cheap].sort());
    await controlPlane.close();
    await store.close();
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    await service?.cleanup();
  });

  it('turns byok-tier channels into disabled resale channels, with a warning', async () => {
    const rows = await database.db.query.providerChannels.findMany({ orderBy: { name: 'asc' } });
    expect(rows.map((r) => [r.name, r.provider, r.tier, r.enabled, r.legacyTier])).toEqual([
      ['old-byok', 'custom', 'resale', false, null],
      ['old-cheap', 'custom', 'cheap', true, null],
      ['old-resale', 'custom', 'resale', true, null],
    ]);
    const warnings = logs.filter((l) => l.includes('was a byok-tier channel'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"old-byok"');
    expect(warnings[0]).toContain(ids.byok);
  });

  it('reseals v1 channel keys as envelope-sealed API key credentials', async () => {
    const rows = await database.db.query.providerChannels.findMany();
    const opened = Object.fromEntries(rows.map((r) => [r.name, [r.credentialSealed.slice(0, 3), decodeCredential(openSecret(masterKey, r.credentialSealed, channelCredentialAad(r.id))), r.credentialLast4]]));
    expect(opened).toEqual({
      'old-resale': ['e1.', { kind: 'api_key', apiKey: RESALE_KEY }, '1111'],
      'old-cheap': ['e1.', { kind: 'api_key', apiKey: CHEAP_KEY }, '2222'],
      'old-byok': ['e1.', { kind: 'api_key', apiKey: BYOK_KEY }, '3333'],
    });
    expect(logs.join('\n')).not.toMatch(/sk-legacy/);
  });

  it('moves old prices to sell prices for the tiers the model\'s channels serve, and the cost in effect to its targets', async () => {
    const prices = await database.db.query.modelSellPrices.findMany({ where: { modelId: ids.model }, orderBy: { effectiveFrom: 'asc', tier: 'asc' } });
    expect(prices.map((p) => [p.tier, p.input, p.output, p.effectiveFrom.getTime()])).toEqual([
      ['cheap', 150n, 300n, now - 86_400_000],
      ['resale', 150n, 300n, now - 86_400_000],
      ['cheap', 300n, 600n, now - 3_600_000],
      ['resale', 300n, 600n, now - 3_600_000],
      ['cheap', 999n, 1998n, now + 86_400_000],
      ['resale', 999n, 1998n, now + 86_400_000],
    ]);
    const lonely = await database.db.query.modelSellPrices.findMany({ where: { modelId: ids.lonely } });
    expect(lonely.map((p) => [p.tier, p.input])).toEqual([['resale', 20n]]);
    const targets = await database.db.query.modelTargets.findMany({ where: { modelId: ids.model } });
    expect(targets).toHaveLength(3);
    expect(new Set(targets.map((t) => t.id)).size).toBe(3);
    expect(targets.map((t) => [t.costInput, t.costOutput])).toEqual([[200n, 400n], [200n, 400n], [200n, 400n]]);
    expect(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from model_prices`))[0]!.n).toBe(0);
  });

  it('keeps usage records, whose token columns now hold 64 bits', async () => {
    expect(await database.db.query.usageRecords.findFirst({ where: { requestId: 'req_legacy' } })).toMatchObject({
      inputTokens: 2_000_000_000, outputTokens: 7, cachedInputTokens: 0, chargeKind: 'usage', endpoint: '/v1/chat/completions', cost: 123n,
    });
    await database.db.execute(sql`update usage_records set input_tokens = 3000000000 where request_id = 'req_legacy'`);
    expect(await database.db.query.usageRecords.findFirst({ where: { requestId: 'req_legacy' } })).toMatchObject({ inputTokens: 3_000_000_000 });
  });

  it('changes nothing when run again', async () => {
    const before = JSON.stringify(
      [await database.db.query.providerChannels.findMany({ orderBy: { id: 'asc' } }), await database.db.query.modelSellPrices.findMany({ orderBy: { id: 'asc' } }), await database.db.query.modelTargets.findMany({ orderBy: { id: 'asc' } })],
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    const again: string[] = [];
    await upgradeLegacyData(database.db, masterKey, captureLogger(again));
    const after = JSON.stringify(
      [await database.db.query.providerChannels.findMany({ orderBy: { id: 'asc' } }), await database.db.query.modelSellPrices.findMany({ orderBy: { id: 'asc' } }), await database.db.query.modelTargets.findMany({ orderBy: { id: 'asc' } })],
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    expect(after).toBe(before);
    expect(again).toEqual([]);
  });
});
