import { randomUUID } from 'node:crypto';
import { silentLogger, TIERS, type ByokRecord, type KeyRecord, type Logger, type ProviderId, type RouteTable, type StateStore, type Tier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { ApiKey, ByokCredential, LedgerEntry, Org, OrgMember } from '../db/schema/index.ts';
import { seedStoreBalance } from './balances.ts';
import { rowsOf } from './ledger.ts';
import { hasLimits, limitsOf } from './limits.ts';
import { seedSpendCounters } from './spend.ts';
import { buildRouteTable } from './route-table.ts';

/** setTimeout's longest delay; a later price change is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Keeps the state store in step with Postgres, which stays the truth: key records by key hash,
 * the route table, BYOK records per (org, provider), and org balances (a cache of the ledger).
 * Each method publishes the current rows; it is called by the publication outbox (services/outbox.ts)
 * after the change commits, and throws when the store refuses, so the outbox retries.
 */
export class Publisher {
  // Route tables are built and versioned one at a time, so a table read earlier can never carry a
  // later version than one read after it.
  private routeChain: Promise<void> = Promise.resolve();
  private priceTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly store: StateStore,
    private readonly logger: Logger = silentLogger,
  ) {}

  /**
   * Startup, and after the store lost its data: every key record (with its spend counters), the
   * route table, every BYOK record and every org's balance (seeded from the ledger where missing).
   */
  async publishAll(): Promise<void> {
    const keys = await this.db.query.apiKeys.findMany({ with: { org: true, member: true } });
    for (const key of keys) await this.putKey(key, key.org, key.member);
    await this.publishRoutes();
    const credentials = await this.db.query.byokCredentials.findMany();
    for (const credential of credentials) await this.store.putByokRecord(credential.orgId, credential.provider, byokRecord(credential));
    const orgs = await this.db.query.orgs.findMany({ columns: { id: true } });
    for (const org of orgs) await seedStoreBalance(this.db, this.store, org.id);
    // Last: the epoch tells data planes the store holds everything, so an unknown key is unknown
    // (before it, and after a wipe, they answer 503 instead of 401).
    // A new epoch only when the store has none: an epoch that changes tells data planes the store's
    // data was lost (they replay their recent usage then), a restart of this process does not.
    await this.store.setEpoch((await this.store.getEpoch()) ?? randomUUID());
    this.logger.info('published snapshots', { keys: keys.length, byokCredentials: credentials.length, orgs: orgs.length });
  }

  async publishKey(apiKeyId: string): Promise<void> {
    const key = await this.db.query.apiKeys.findFirst({ where: { id: apiKeyId }, with: { org: true, member: true } });
    if (key) await this.putKey(key, key.org, key.member);
  }

  /** A deleted key's secret (or a rotated one's old secret) stops working. */
  async removeKeyRecord(hash: string): Promise<void> {
    await this.store.putKeyRecord(hash, null);
  }

  /** After a change to an org that its keys' records carry (allowed tiers, plan, ceilings, overdraft). */
  async publishOrgKeys(orgId: string): Promise<void> {
    const keys = await this.db.query.apiKeys.findMany({ where: { orgId }, with: { org: true, member: true } });
    for (const key of keys) await this.putKey(key, key.org, key.member);
  }

  /** The org's credential for the provider as it now is: stored, replaced, or removed when deleted. */
  async publishByok(orgId: string, provider: ProviderId | string): Promise<void> {
    const credential = await this.db.query.byokCredentials.findFirst({ where: { orgId, provider: provider as ProviderId } });
    await this.store.putByokRecord(orgId, provider, credential ? byokRecord(credential) : null);
  }

  publishRoutes(): Promise<void> {
    const next = this.routeChain.catch(() => {}).then(() => this.buildAndPutRoutes());
    this.routeChain = next;
    return next;
  }

  /** A new org starts with an empty ledger. */
  async seedOrg(orgId: string): Promise<void> {
    await seedStoreBalance(this.db, this.store, orgId);
  }

  /** After a ledger entry commits: apply it to the cached balance once, or seed from the ledger. */
  async applyCredit(entry: LedgerEntry): Promise<void> {
    const outcome = await this.store.applyCredit(entry.orgId, entry.id, entry.amount);
    // The seed is the ledger sum, which already includes this entry.
    if (outcome === 'no_balance') await seedStoreBalance(this.db, this.store, entry.orgId);
  }

  async applyCreditById(entryId: string): Promise<void> {
    const entry = await this.db.query.ledgerEntries.findFirst({ where: { id: entryId } });
    if (entry) await this.applyCredit(entry);
  }

  /**
   * A key's record under its hash, and during a rotation's grace period under the old secret's
   * hash too, expiring when the grace ends (or earlier, with the key). A past grace is removed.
   */
  private async putKey(key: ApiKey, org: Org, member: OrgMember | null): Promise<void> {
    const record = keyRecord(key, org, member);
    // Counters first: once the record is out, a data plane may start filling them.
    await seedSpendCounters(this.db, this.store, record);
    await this.store.putKeyRecord(key.keyHash, record);
    if (key.previousKeyHash && key.previousExpiresAt) {
      const graceEnd = key.previousExpiresAt.getTime();
      if (graceEnd <= Date.now()) await this.store.putKeyRecord(key.previousKeyHash, null);
      else await this.store.putKeyRecord(key.previousKeyHash, { ...record, expiresAt: Math.min(graceEnd, record.expiresAt ?? graceEnd) });
    }
  }

  async buildRouteTable(): Promise<RouteTable> {
    return (await this.buildRoutes()).table;
  }

  /** Stops the timer that republishes routes when a scheduled price takes effect. */
  close(): void {
    this.closed = true;
    if (this.priceTimer) clearTimeout(this.priceTimer);
    this.priceTimer = null;
  }

  private async buildRoutes() {
    // Taken first, so this table's version is later than any change committed before the call.
    const version = await this.nextVersion();
    return buildRouteTable(this.db, version, new Date());
  }

  private async buildAndPutRoutes(): Promise<void> {
    const built = await this.buildRoutes();
    for (const channelId of built.skippedChannels) {
      this.logger.warn('channel left out of the route table: its credential is still in the pre-v2 format (converted at startup)', { channelId });
    }
    await this.store.putRouteTable(built.table);
    this.schedulePriceChange(built.nextPriceChange);
  }

  /** Prices take effect at their effective date, not at their next unrelated publication. */
  private schedulePriceChange(at: Date | null): void {
    if (this.priceTimer) clearTimeout(this.priceTimer);
    this.priceTimer = null;
    if (at === null || this.closed) return;
    // One millisecond past it, so the table built then includes it.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - Date.now() + 1));
    this.priceTimer = setTimeout(() => {
      this.priceTimer = null;
      this.publishRoutes().catch((error: unknown) => this.logger.error('republishing routes for a scheduled price failed', { error }));
    }, delay);
    this.priceTimer.unref();
  }

  private async nextVersion(): Promise<number> {
    const result = await this.db.execute(sql`select nextval('route_table_version')::text as version`);
    return Number(rowsOf<{ version: string }>(result)[0]!.version);
  }
}

/** Tiers a key may use: its own restriction within its org's; null when neither restricts. */
export function effectiveTiers(keyTiers: readonly Tier[] | null, orgTiers: readonly Tier[] | null): Tier[] | null {
  if (keyTiers === null && orgTiers === null) return null;
  return TIERS.filter((t) => (keyTiers === null || keyTiers.includes(t)) && (orgTiers === null || orgTiers.includes(t)));
}

/**
 * What the data plane knows of a key. Limits, the org's ceilings and overdraft, and metadata are
 * left out when there are none (the decoder reads an absent part as no limits and no overdraft),
 * so a record of a key without them is what it was before they existed.
 */
export function keyRecord(key: ApiKey, org: Org, member: OrgMember | null = null): KeyRecord {
  const limits = limitsOf(key);
  const orgLimits = limitsOf(org);
  return {
    v: 2,
    id: key.id,
    orgId: key.orgId,
    defaultTier: org.defaultTier,
    status: key.status,
    expiresAt: key.expiresAt ? key.expiresAt.getTime() : null,
    allowedTiers: effectiveTiers(key.allowedTiers, org.allowedTiers),
    planId: org.planId,
    ...(hasLimits(limits) ? { limits } : {}),
    ...(hasLimits(orgLimits) || org.overdraft !== 0n ? { org: { limits: orgLimits, overdraft: org.overdraft.toString() } } : {}),
    ...(member ? { member: { id: member.id, monthlyAllowance: member.monthlyAllowance === null ? null : member.monthlyAllowance.toString() } } : {}),
    ...(key.metadata && Object.keys(key.metadata).length > 0 ? { metadata: key.metadata } : {}),
  };
}

export function byokRecord(credential: ByokCredential): ByokRecord {
  return { v: 1, id: credential.id, orgId: credential.orgId, provider: credential.provider, credentialSealed: credential.credentialSealed };
}
