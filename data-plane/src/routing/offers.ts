import { FREE, markupPrice, parsePrice, type ChannelRecord, type Credential, type Logger, type ModelRoute, type OperatorTier, type Price, type RouteTarget } from '@tollgate/shared';
import type { Candidate } from './candidate.ts';

/** What every candidate of one channel shares: the channel's settings and its opened credential. */
export interface OpenChannel {
  record: ChannelRecord;
  open: Omit<Candidate, 'key' | 'target' | 'priority' | 'weight' | 'chargePrice' | 'providerPrice'> & {
    origin: string;
    basePath: string;
    credential: Credential;
  };
}

/** What a model is sold at on the operator tiers, to every org or to one with its own markup. */
export interface Offer {
  /**
   * The price shown per tier (GET /v1/models): the explicit price, or under a markup the dearest
   * marked-up price of the tier's targets (each target is billed at its own).
   */
  prices: Partial<Record<OperatorTier, Price>>;
  /** Candidates per operator tier, best priority first (order within a priority is drawn per request). */
  candidates: Record<OperatorTier, Candidate[]>;
}

/** How one tier is sold: at an explicit price, or at each target's cost times a markup. */
type TierPricing = { price: Price } | { markupBps: number };

interface ServedTarget {
  channel: OpenChannel;
  target: RouteTarget;
  /** What the operator pays; null when the table's cost is unreadable. */
  cost: Price | null;
}

/**
 * The offers of one model: the one every org gets, and one per org with its own markup. Explicit
 * prices must parse (a throw leaves the model out: unpriced means unbillable). A target whose
 * cost is unreadable is still served at an explicit price (its margin shows as free) but never
 * under a markup, where its cost is the price.
 */
export function offersOf(route: ModelRoute, channels: ReadonlyMap<string, OpenChannel>, logger: Logger): { offer: Offer; orgOffers: Map<string, Offer> } {
  const pricing: Partial<Record<OperatorTier, TierPricing>> = {};
  for (const [tier, record] of Object.entries(route.prices) as [OperatorTier, NonNullable<ModelRoute['prices'][OperatorTier]>][]) pricing[tier] = { price: parsePrice(record) };
  for (const [tier, markupBps] of Object.entries(route.markups ?? {}) as [OperatorTier, number][]) pricing[tier] = { markupBps };

  const served: ServedTarget[] = [];
  for (const target of route.targets) {
    const channel = channels.get(target.channelId);
    if (!channel) continue;
    let cost: Price | null;
    try {
      cost = parsePrice(target.cost);
    } catch {
      cost = null;
      logger.warn('target cost unreadable: served at an explicit price only, its margin shown as free', { model: route.name, channelId: target.channelId });
    }
    served.push({ channel, target, cost });
  }

  const orgOffers = new Map<string, Offer>();
  for (const [orgId, markups] of Object.entries(route.orgMarkups ?? {})) {
    const own: Partial<Record<OperatorTier, TierPricing>> = { ...pricing };
    for (const [tier, markupBps] of Object.entries(markups) as [OperatorTier, number][]) own[tier] = { markupBps };
    orgOffers.set(orgId, offer(served, own));
  }
  return { offer: offer(served, pricing), orgOffers };
}

function offer(served: readonly ServedTarget[], pricing: Partial<Record<OperatorTier, TierPricing>>): Offer {
  const candidates: Offer['candidates'] = { cheap: [], resale: [] };
  for (const { channel, target, cost } of served) {
    const tier = channel.record.tier;
    const sold = pricing[tier];
    if (!sold) continue;
    let chargePrice: Price;
    if ('price' in sold) chargePrice = sold.price;
    else if (cost !== null) chargePrice = markupPrice(cost, sold.markupBps);
    else continue;
    const { origin, basePath, credential, ...rest } = channel.open;
    const upstreamModel = channel.record.modelMap[target.upstreamModel] ?? target.upstreamModel;
    candidates[tier].push({
      ...rest,
      key: `${target.channelId}/${target.upstreamModel}`,
      target: { provider: channel.record.provider, origin, basePath, upstreamModel, credential, extraHeaders: channel.record.extraHeaders },
      priority: target.priority,
      weight: target.weight,
      chargePrice,
      providerPrice: cost ?? FREE,
    });
  }
  // Cheapest first within a priority is the operator's to set; the order across priorities is ours.
  for (const list of Object.values(candidates)) list.sort((a, b) => a.priority - b.priority);
  const prices: Offer['prices'] = {};
  for (const tier of ['cheap', 'resale'] as const) {
    const sold = pricing[tier];
    if (!sold) continue;
    if ('price' in sold) prices[tier] = sold.price;
    else if (candidates[tier].length > 0) prices[tier] = dearest(candidates[tier].map((c) => c.chargePrice));
  }
  return { prices, candidates };
}

/** The highest rate of each bucket, and of each image size and quality, over some prices. */
function dearest(prices: readonly Price[]): Price {
  const max = (a: bigint, b: bigint): bigint => (b > a ? b : a);
  const images = new Map<string, { size: string; quality: string; price: bigint }>();
  for (const p of prices) {
    for (const i of p.images ?? []) {
      const key = `${i.size}\0${i.quality}`;
      const seen = images.get(key);
      if (!seen || i.price > seen.price) images.set(key, i);
    }
  }
  const out = prices.reduce((a, p) => ({
    input: max(a.input, p.input), cachedInput: max(a.cachedInput, p.cachedInput), cacheWrite: max(a.cacheWrite, p.cacheWrite),
    output: max(a.output, p.output), reasoning: max(a.reasoning, p.reasoning),
  }), FREE as Price);
  return prices.some((p) => p.images !== undefined) ? { ...out, images: [...images.values()] } : out;
}
