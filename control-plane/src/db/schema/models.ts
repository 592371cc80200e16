import { MODEL_CAPABILITIES, type ImagePrice, type ModelCapability, type OperatorTier, type ProviderId } from '@tollgate/shared';
import { sql, type SQL } from 'drizzle-orm';
import { bigint, check, customType, index, integer, pgTable, text, timestamp, unique, uuid, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { providerChannels } from './provider-channels.ts';

/**
 * Prices are nanocredits per million tokens for each usage bucket (shared/src/pricing.ts). Cached
 * input, cache writes and reasoning are nullable: null falls back to the input (cached, write) or
 * output (reasoning) rate, never to zero.
 */
function perMillion(name: string) {
  return bigint(name, { mode: 'bigint' });
}

function readImagePrices(value: unknown): ImagePrice[] {
  if (!Array.isArray(value)) return [];
  return value.map((v: { size: string; quality: string; price: string }) => ({ size: v.size, quality: v.quality, price: BigInt(v.price) }));
}

/**
 * Per-image prices by size and quality (shared/src/pricing.ts `imagePriceOf`), null for a model
 * that sells no images: a jsonb list whose prices are decimal strings of nanocredits (JSON has no
 * bigint), read back as bigints. Services check each list before it is written.
 */
const imagePrices = customType<{ data: ImagePrice[]; driverData: string; driverOutput: unknown; jsonData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (list) => JSON.stringify(list.map((i) => ({ size: i.size, quality: i.quality, price: i.price.toString() }))),
  fromDriver: (value) => readImagePrices(typeof value === 'string' ? JSON.parse(value) : value),
  fromJson: readImagePrices,
});

function nonNegative(...columns: AnyPgColumn[]): SQL {
  return sql.join(
    columns.map((c) => sql`(${c} is null or ${c} >= 0)`),
    sql` and `,
  );
}

/** A public model name customers ask for (`[tier/]name`), routed to targets. */
export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique(),
    /** The largest output per choice: the hold when a client sets no cap. */
    maxOutputTokens: integer('max_output_tokens').notNull().default(4096),
    contextWindow: integer('context_window'),
    /** What the model can do (shared's MODEL_CAPABILITIES), in that list's order. */
    capabilities: text('capabilities').$type<ModelCapability>().array().notNull().default(sql`'{}'::text[]`),
    /**
     * Other names clients may ask for, served and billed as this model. Unique across every
     * model's name and aliases: services/models.ts checks that under a lock (no index can).
     */
    aliases: text('aliases').array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    check('models_limits_check', sql`${t.maxOutputTokens} > 0 and (${t.contextWindow} is null or ${t.contextWindow} > 0)`),
    check('models_alias_not_name_check', sql`not (${t.name} = any(${t.aliases}))`),
    check('models_capabilities_check', sql`${t.capabilities} <@ array[${sql.raw(MODEL_CAPABILITIES.map((c) => `'${c}'`).join(', '))}]::text[]`),
    index('models_aliases_idx').using('gin', t.aliases),
  ],
);

/**
 * Where a model is served on the operator's tiers: a channel, the model name upstream, and what
 * the operator pays for it. Lower priority runs first; equal priorities share traffic by weight.
 */
export const modelTargets = pgTable(
  'model_targets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => providerChannels.id),
    upstreamModel: text('upstream_model').notNull(),
    priority: integer('priority').notNull().default(0),
    weight: integer('weight').notNull().default(1),
    // Defaults only for rows from before costs moved here; startup fills them from the old prices.
    costInput: perMillion('cost_input_per_million').notNull().default(0n),
    costOutput: perMillion('cost_output_per_million').notNull().default(0n),
    costCachedInput: perMillion('cost_cached_input_per_million'),
    costCacheWrite: perMillion('cost_cache_write_per_million'),
    costReasoning: perMillion('cost_reasoning_per_million'),
    costImagePrices: imagePrices('cost_image_prices'),
  },
  (t) => [
    unique('model_targets_model_channel_upstream_key').on(t.modelId, t.channelId, t.upstreamModel),
    index('model_targets_channel_id_idx').on(t.channelId),
    check('model_targets_weight_check', sql`${t.priority} >= 0 and ${t.weight} > 0`),
    check('model_targets_cost_check', nonNegative(t.costInput, t.costOutput, t.costCachedInput, t.costCacheWrite, t.costReasoning)),
  ],
);

/**
 * What customers pay for a model on an operator tier, with effective dates: the price of a tier at
 * an instant is its row with the latest `effective_from` not after it. Rows are never updated, so
 * past requests stay priceable as they were.
 */
export const modelSellPrices = pgTable(
  'model_sell_prices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    tier: text('tier').$type<OperatorTier>().notNull(),
    input: perMillion('input_per_million').notNull(),
    output: perMillion('output_per_million').notNull(),
    cachedInput: perMillion('cached_input_per_million'),
    cacheWrite: perMillion('cache_write_per_million'),
    reasoning: perMillion('reasoning_per_million'),
    imagePrices: imagePrices('image_prices'),
    effectiveFrom: timestamp('effective_from', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Two prices from the same instant would make that instant's price ambiguous.
    unique('model_sell_prices_model_tier_effective_key').on(t.modelId, t.tier, t.effectiveFrom),
    check('model_sell_prices_tier_check', sql`${t.tier} in ('cheap', 'resale')`),
    check('model_sell_prices_price_check', nonNegative(t.input, t.output, t.cachedInput, t.cacheWrite, t.reasoning)),
  ],
);

/**
 * Where a `byok/` request for a model goes when the org holds a credential for the provider, and
 * the provider's paid list price: the BYOK fee is a share of it, even when the customer's key is
 * on a free tier.
 */
export const modelByokTargets = pgTable(
  'model_byok_targets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    provider: text('provider').$type<ProviderId>().notNull(),
    upstreamModel: text('upstream_model').notNull(),
    listInput: perMillion('list_input_per_million').notNull(),
    listOutput: perMillion('list_output_per_million').notNull(),
    listCachedInput: perMillion('list_cached_input_per_million'),
    listCacheWrite: perMillion('list_cache_write_per_million'),
    listReasoning: perMillion('list_reasoning_per_million'),
    listImagePrices: imagePrices('list_image_prices'),
  },
  (t) => [
    unique('model_byok_targets_model_provider_key').on(t.modelId, t.provider),
    check('model_byok_targets_price_check', nonNegative(t.listInput, t.listOutput, t.listCachedInput, t.listCacheWrite, t.listReasoning)),
  ],
);

/**
 * Prices from before v2: one cost and one sell price per model for every tier. Startup moves each
 * row into `model_sell_prices` (for the tiers the model's channels serve) and the cost onto the
 * model's targets, then deletes it; nothing else reads this table.
 */
export const legacyModelPrices = pgTable(
  'model_prices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    inputCostPerMillion: bigint('input_cost_per_million', { mode: 'bigint' }).notNull(),
    outputCostPerMillion: bigint('output_cost_per_million', { mode: 'bigint' }).notNull(),
    inputPricePerMillion: bigint('input_price_per_million', { mode: 'bigint' }).notNull(),
    outputPricePerMillion: bigint('output_price_per_million', { mode: 'bigint' }).notNull(),
    effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_prices_model_effective_idx').on(t.modelId, t.effectiveFrom)],
);

export type Model = typeof models.$inferSelect;
export type ModelTarget = typeof modelTargets.$inferSelect;
export type ModelSellPrice = typeof modelSellPrices.$inferSelect;
export type ModelByokTarget = typeof modelByokTargets.$inferSelect;
