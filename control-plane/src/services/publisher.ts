import {
  silentLogger,
  type ChannelRecord,
  type KeyRecord,
  type Logger,
  type ModelRoute,
  type RouteTable,
  type StateStore,
} from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { ApiKey, LedgerEntry, Org } from '../db/schema/index.ts';
import { allBalances, ledgerBalance, rowsOf } from './ledger.ts';

/**
 * Keeps the state store in step with Postgres, which stays the truth: key records by key hash,
 * the route table, and org balances (a cache of the ledger). Called after each committed change
 * and once at startup for everything. A failed publication is logged, not thrown: the change is
 * committed, and the next startup (or the next change, for routes) republishes it.
 */
export class Publisher {
  // Route tables are built and versioned one at a time, so a table read earlier can never carry a
  // later version than one read after it.
  private routeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly store: StateStore,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Startup: every key record, the route table and every org's balance. */
  async publishAll(): Promise<void> {
    const keys = await this.db.query.apiKeys.findMany({ with: { org: true } });
    for (const key of keys) await this.store.putKeyRecord(key.keyHash, keyRecord(key, key.org));
    await this.publishRoutes();
    for (const [orgId, balance] of await allBalances(this.db)) await this.store.seedBalance(orgId, balance);
    this.logger.info('published snapshots', { keys: keys.length });
  }

  async publishKey(apiKeyId: string): Promise<void> {
    await this.guard('key record', async () => {
      const key = await this.db.query.apiKeys.findFirst({ where: { id: apiKeyId }, with: { org: true } });
      if (key) await this.store.putKeyRecord(key.keyHash, keyRecord(key, key.org));
    });
  }

  publishRoutes(): Promise<void> {
    const next = this.routeChain.then(() => this.guard('route table', async () => this.store.putRouteTable(await this.buildRouteTable())));
    this.routeChain = next;
    return next;
  }

  /** A new org starts with an empty ledger. */
  async seedOrg(orgId: string): Promise<void> {
    await this.guard('balance', async () => {
      await this.store.seedBalance(orgId, await ledgerBalance(this.db, orgId));
    });
  }

  /** After a ledger entry commits: apply it to the cached balance once, or seed from the ledger. */
  async applyCredit(entry: LedgerEntry): Promise<void> {
    await this.guard('balance', async () => {
      const outcome = await this.store.applyCredit(entry.orgId, entry.id, entry.amount);
      // The seed is the ledger sum, which already includes this entry.
      if (outcome === 'no_balance') await this.store.seedBalance(entry.orgId, await ledgerBalance(this.db, entry.orgId));
    });
  }

  async buildRouteTable(): Promise<RouteTable> {
    // Taken first, so this table's version is later than any change committed before the call.
    const version = await this.nextVersion();
    const now = new Date();
    const channelRows = await this.db.query.providerChannels.findMany();
    const modelRows = await this.db.query.models.findMany({
      with: {
        targets: { orderBy: { priority: 'asc' } },
        prices: { where: { effectiveFrom: { lte: now } }, orderBy: { effectiveFrom: 'desc' }, limit: 1 },
      },
    });
    const channels: Record<string, ChannelRecord> = {};
    for (const c of channelRows) {
      channels[c.id] = { id: c.id, name: c.name, protocol: c.protocol, baseUrl: c.baseUrl, tier: c.tier, apiKeySealed: c.apiKeySealed };
    }
    const models: Record<string, ModelRoute> = {};
    for (const m of modelRows) {
      const price = m.prices[0];
      // A model without a price in effect cannot be sold yet.
      if (!price) continue;
      models[m.name] = {
        name: m.name,
        price: { inputPerMillion: price.inputPricePerMillion.toString(), outputPerMillion: price.outputPricePerMillion.toString() },
        targets: m.targets.map((t) => ({ channelId: t.channelId, upstreamModel: t.upstreamModel, priority: t.priority, weight: t.weight })),
        createdAt: m.createdAt.getTime(),
      };
    }
    return { v: 1, version, channels, models };
  }

  private async nextVersion(): Promise<number> {
    const result = await this.db.execute(sql`select nextval('route_table_version')::text as version`);
    return Number(rowsOf<{ version: string }>(result)[0]!.version);
  }

  private async guard(what: string, publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logger.error(`failed to publish ${what}; it is republished at the next start`, { error });
    }
  }
}

export function keyRecord(key: ApiKey, org: Org): KeyRecord {
  return {
    v: 1,
    id: key.id,
    orgId: key.orgId,
    defaultTier: org.defaultTier,
    status: key.status,
    expiresAt: key.expiresAt ? key.expiresAt.getTime() : null,
  };
}
