import { providerInfo, type ChannelRecord, type ModelRoute, type OperatorTier, type PlanRecord, type PriceRecord, type RouteTable } from '@tollgate/shared';
import { asc, desc, gt, lte, min } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { modelMarkups, modelSellPrices, type ProviderChannel } from '../db/schema/index.ts';
import { markupsInEffect } from './markups.ts';
import { costOf, listOf, priceRecord } from './prices.ts';
import { getSettings } from './settings.ts';

export interface BuiltRouteTable {
  table: RouteTable;
  /** The next instant a scheduled price or markup takes effect: the table must be published again then. */
  nextPriceChange: Date | null;
  /** Enabled channels left out because their credential is still in the pre-v2 format. */
  skippedChannels: string[];
}

/** Only envelope-sealed credentials are published; a `v1.` one awaits the startup conversion. */
function isEnvelopeSealed(channel: ProviderChannel): boolean {
  return channel.credentialSealed.startsWith('e1.');
}

function channelRecord(c: ProviderChannel): ChannelRecord {
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    protocol: providerInfo(c.provider).protocol,
    baseUrl: c.baseUrl,
    tier: c.tier,
    credentialSealed: c.credentialSealed,
    enabled: c.enabled,
    timeouts: { connectMs: c.connectTimeoutMs, firstByteMs: c.firstByteTimeoutMs, idleMs: c.idleTimeoutMs, totalMs: c.totalTimeoutMs },
    retries: c.retries,
    modelMap: c.modelMap,
    extraHeaders: c.extraHeaders,
    maxConcurrency: c.maxConcurrency,
    allowPrivateNetwork: c.allowPrivateNetwork,
  };
}

/**
 * The route table as of `now` (DESIGN.md, "Routing model"): enabled channels, each model's sell
 * price in effect per tier, its targets on those channels with their cost, its BYOK targets with
 * the provider's list price, the plans and the BYOK fee. Disabled channels and their targets are
 * left out, so a data plane never has to know about them.
 */
export async function buildRouteTable(db: Db, version: number, now: Date): Promise<BuiltRouteTable> {
  // One snapshot for every query below, so the table never mixes two states of the catalogue.
  return db.transaction((tx) => build(tx, version, now), { isolationLevel: 'repeatable read', accessMode: 'read only' });
}

async function build(db: Db, version: number, now: Date): Promise<BuiltRouteTable> {
  const channelRows = await db.query.providerChannels.findMany({ where: { enabled: true } });
  const channels: Record<string, ChannelRecord> = {};
  const skippedChannels: string[] = [];
  for (const c of channelRows) {
    if (isEnvelopeSealed(c)) channels[c.id] = channelRecord(c);
    else skippedChannels.push(c.id);
  }

  // The latest price not after `now`, per model and tier.
  const inEffect = await db
    .selectDistinctOn([modelSellPrices.modelId, modelSellPrices.tier])
    .from(modelSellPrices)
    .where(lte(modelSellPrices.effectiveFrom, now))
    .orderBy(asc(modelSellPrices.modelId), asc(modelSellPrices.tier), desc(modelSellPrices.effectiveFrom));
  const pricesByModel = new Map<string, Partial<Record<OperatorTier, PriceRecord>>>();
  for (const p of inEffect) {
    const prices = pricesByModel.get(p.modelId) ?? {};
    prices[p.tier] = priceRecord(p);
    pricesByModel.set(p.modelId, prices);
  }
  const markupsByModel = await markupsInEffect(db, now);
  const [nextPrice] = await db.select({ at: min(modelSellPrices.effectiveFrom) }).from(modelSellPrices).where(gt(modelSellPrices.effectiveFrom, now));
  const [nextMarkup] = await db.select({ at: min(modelMarkups.effectiveFrom) }).from(modelMarkups).where(gt(modelMarkups.effectiveFrom, now));
  const nextChanges = [nextPrice?.at, nextMarkup?.at].filter((at): at is Date => at != null);
  const next = nextChanges.length === 0 ? null : new Date(Math.min(...nextChanges.map((at) => at.getTime())));

  const modelRows = await db.query.models.findMany({
    with: { targets: { orderBy: { priority: 'asc', id: 'asc' } }, byokTargets: { orderBy: { provider: 'asc' } } },
    orderBy: { name: 'asc' },
  });
  const models: Record<string, ModelRoute> = {};
  for (const m of modelRows) {
    const prices = pricesByModel.get(m.id) ?? {};
    const { markups, orgMarkups } = markupsByModel.get(m.id) ?? { markups: {}, orgMarkups: {} };
    // A tier under a markup is not sold at its explicit price: leaving that out means a data plane
    // from before markups refuses the tier rather than bill a price that is not in effect.
    for (const tier of Object.keys(markups) as OperatorTier[]) delete prices[tier];
    // Nothing to sell: no tier priced or marked up (for anyone) and no BYOK target.
    if (Object.keys(prices).length === 0 && Object.keys(markups).length === 0 && Object.keys(orgMarkups).length === 0 && m.byokTargets.length === 0) continue;
    models[m.name] = {
      name: m.name,
      prices,
      maxOutputTokens: m.maxOutputTokens,
      targets: m.targets
        .filter((t) => t.channelId in channels)
        .map((t) => ({ channelId: t.channelId, upstreamModel: t.upstreamModel, priority: t.priority, weight: t.weight, cost: priceRecord(costOf(t)) })),
      byok: m.byokTargets.map((b) => ({ provider: b.provider, upstreamModel: b.upstreamModel, listPrice: priceRecord(listOf(b)) })),
      createdAt: m.createdAt.getTime(),
      contextWindow: m.contextWindow,
      capabilities: m.capabilities,
      aliases: m.aliases,
      ...(Object.keys(markups).length > 0 ? { markups } : {}),
      ...(Object.keys(orgMarkups).length > 0 ? { orgMarkups } : {}),
    };
  }

  const planRows = await db.query.plans.findMany({
    with: { premiumModel: { columns: { name: true } }, continuationModel: { columns: { name: true } }, fallbackModel: { columns: { name: true } } },
  });
  const plans: Record<string, PlanRecord> = {};
  for (const p of planRows) {
    plans[p.id] = {
      id: p.id,
      name: p.name,
      window: p.window,
      premiumAllowanceTokens: p.premiumAllowanceTokens,
      concurrency: p.concurrency,
      continuationAllowed: p.continuationAllowed,
      fallbackAllowed: p.fallbackAllowed,
      lanes: {
        premium: { model: p.premiumModel.name, tier: p.premiumTier },
        continuation: p.continuationModel && p.continuationTier ? { model: p.continuationModel.name, tier: p.continuationTier } : null,
        fallback: p.fallbackModel && p.fallbackTier ? { model: p.fallbackModel.name, tier: p.fallbackTier } : null,
      },
    };
  }

  const { byokFeeBps } = await getSettings(db);
  return { table: { v: 2, version, channels, models, plans, byokFeeBps }, nextPriceChange: next, skippedChannels };
}
