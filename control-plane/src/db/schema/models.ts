import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { providerChannels } from './provider-channels.ts';

/** A public model name customers ask for, routed to one or more targets. */
export const models = pgTable('models', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Where a model is served: a channel and the model name upstream. Lower priority runs first. */
export const modelTargets = pgTable(
  'model_targets',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => providerChannels.id),
    upstreamModel: text('upstream_model').notNull(),
    priority: integer('priority').notNull().default(0),
    weight: integer('weight').notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.channelId, t.upstreamModel] })],
);

/**
 * Prices in nanocredits per million tokens, with effective dates: the current price of a model is
 * the row with the latest `effective_from` not in the future. Rows are never updated.
 */
export const modelPrices = pgTable(
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
export type ModelPrice = typeof modelPrices.$inferSelect;
