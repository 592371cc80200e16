import { adapterFor, formatCredits, providerInfo, type KeyRecord, type ModelCapability, type Price, type Tier } from '@tollgate/shared';
import type { Offer } from './offers.ts';
import type { LiveModel } from './route-table.ts';

/** The tiers on which a model can be served at all, under one offer. */
export function tiersOf(model: LiveModel, offer: Offer = model): Tier[] {
  const tiers: Tier[] = [];
  if (offer.candidates.cheap.length > 0) tiers.push('cheap');
  if (offer.candidates.resale.length > 0) tiers.push('resale');
  if (model.route.byok.some((b) => adapterFor(providerInfo(b.provider).protocol) !== null)) tiers.push('byok');
  return tiers;
}

/** Credits per million tokens per bucket, and per image by size and quality where images are sold. */
interface TierPricing {
  input: string;
  output: string;
  cached_input: string;
  cache_write: string;
  reasoning: string;
  images?: { size: string; quality: string; price: string }[];
}

interface ListedModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'tollgate';
  /** Tokens of input and output one request may hold; null when the catalogue does not say. */
  context_window: number | null;
  /**
   * Tollgate's extra field: where the model is served and what it costs, in credits; what it can
   * do; the most output one choice may have; and its aliases, other ids that reach this same model
   * (listed here rather than as entries of their own, so a model appears once).
   */
  tollgate: { tiers: Tier[]; pricing: Partial<Record<Tier, TierPricing>>; capabilities: ModelCapability[]; max_output_tokens: number; aliases: string[] };
}

function creditsOf(price: Price): TierPricing {
  return {
    input: formatCredits(price.input),
    output: formatCredits(price.output),
    cached_input: formatCredits(price.cachedInput),
    cache_write: formatCredits(price.cacheWrite),
    reasoning: formatCredits(price.reasoning),
    ...(price.images !== undefined && price.images.length > 0
      ? { images: price.images.map((i) => ({ size: i.size, quality: i.quality, price: formatCredits(i.price) })) }
      : {}),
  };
}

/**
 * `GET /v1/models` answers for one table version: each model once, with the tiers it is served on
 * and its prices. Keys restricted to some tiers see only those, and orgs with their own markup
 * their own prices (and tiers only their markup sells); the bodies are rendered once per
 * restriction, org with a markup and version, not per request.
 */
export class ModelList {
  /** Everyone's entries, by model name, in the table's order. */
  private readonly models = new Map<string, ListedModel>();
  /** Orgs with their own markup: their entry for each model it touches (null: not sold to them). */
  private readonly orgModels = new Map<string, Map<string, ListedModel | null>>();
  /** Every model name, in order, including those sold only to an org with its own markup. */
  private readonly names: string[] = [];
  /** Alias -> model name. */
  private readonly aliases = new Map<string, string>();
  private readonly bodies = new Map<string, string>();

  constructor(live: LiveModel[]) {
    for (const model of live) {
      this.names.push(model.route.name);
      const listed = entryOf(model, model);
      if (listed) this.models.set(model.route.name, listed);
      for (const [orgId, offer] of model.orgOffers) {
        let own = this.orgModels.get(orgId);
        if (!own) this.orgModels.set(orgId, (own = new Map()));
        own.set(model.route.name, entryOf(model, offer));
      }
      for (const alias of model.route.aliases ?? []) if (!this.aliases.has(alias)) this.aliases.set(alias, model.route.name);
    }
  }

  /** The entry this key's org sees for a model, before tier restrictions. */
  private entry(name: string, key: KeyRecord): ListedModel | null {
    const own = this.orgModels.get(key.orgId);
    if (own?.has(name)) return own.get(name)!;
    return this.models.get(name) ?? null;
  }

  private visible(model: ListedModel, key: KeyRecord): ListedModel | null {
    const tiers = key.allowedTiers === null ? model.tollgate.tiers : model.tollgate.tiers.filter((t) => key.allowedTiers!.includes(t));
    if (tiers.length === 0) return null;
    if (tiers.length === model.tollgate.tiers.length) return model;
    const pricing: ListedModel['tollgate']['pricing'] = {};
    for (const t of tiers) if (model.tollgate.pricing[t]) pricing[t] = model.tollgate.pricing[t];
    return { ...model, tollgate: { ...model.tollgate, tiers, pricing } };
  }

  /** The list body for this key. */
  body(key: KeyRecord): string {
    const tiers = key.allowedTiers === null ? '*' : [...key.allowedTiers].sort().join(',');
    const signature = this.orgModels.has(key.orgId) ? `${tiers} ${key.orgId}` : tiers;
    let body = this.bodies.get(signature);
    if (body === undefined) {
      const data: ListedModel[] = [];
      for (const name of this.names) {
        const model = this.entry(name, key);
        const shown = model && this.visible(model, key);
        if (shown) data.push(shown);
      }
      body = JSON.stringify({ object: 'list', data });
      this.bodies.set(signature, body);
    }
    return body;
  }

  /**
   * One model by id or alias, with or without a tier prefix; null when this key cannot see it. An
   * alias answers the model it names, under the model's own id (with the prefix asked for).
   */
  find(id: string, key: KeyRecord): ListedModel | null {
    const slash = id.indexOf('/');
    const prefix = slash === -1 ? '' : id.slice(0, slash);
    const isTierPrefix = prefix === 'cheap' || prefix === 'resale' || prefix === 'byok';
    const asked = isTierPrefix ? id.slice(slash + 1) : id;
    const model = this.entry(asked, key) ?? this.entry(this.aliases.get(asked) ?? '', key);
    if (!model) return null;
    const shown = this.visible(model, key);
    if (!shown) return null;
    if (isTierPrefix && !shown.tollgate.tiers.includes(prefix as Tier)) return null;
    return isTierPrefix ? { ...shown, id: `${prefix}/${shown.id}` } : shown;
  }
}

function entryOf(model: LiveModel, offer: Offer): ListedModel | null {
  const tiers = tiersOf(model, offer);
  if (tiers.length === 0) return null;
  const pricing: ListedModel['tollgate']['pricing'] = {};
  for (const tier of tiers) {
    const price = tier === 'byok' ? undefined : offer.prices[tier];
    if (price) pricing[tier] = creditsOf(price);
  }
  return {
    id: model.route.name,
    object: 'model',
    created: Math.floor(model.route.createdAt / 1000),
    owned_by: 'tollgate',
    context_window: model.route.contextWindow ?? null,
    tollgate: { tiers, pricing, capabilities: model.route.capabilities ?? [], max_output_tokens: model.route.maxOutputTokens, aliases: model.route.aliases ?? [] },
  };
}
