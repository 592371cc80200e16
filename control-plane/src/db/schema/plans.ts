import type { Tier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { models } from './models.ts';

export type PlanWindow = 'day' | 'week' | 'month';

const TIER_CHECK = (column: unknown) => sql`${column} in ('cheap', 'resale', 'byok')`;

/**
 * A flat-fee plan: how `auto` routes (a premium lane while the org's premium allowance for the
 * window lasts, then continuation; fallback when a lane's targets all failed) and its limits.
 * A lane is a model and the tier to use it on.
 */
export const plans = pgTable(
  'plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique(),
    window: text('window').$type<PlanWindow>().notNull(),
    /** Premium-lane tokens (input + output) per window. */
    premiumAllowanceTokens: bigint('premium_allowance_tokens', { mode: 'number' }).notNull(),
    /** Concurrent requests per org; null for no cap. */
    concurrency: integer('concurrency'),
    continuationAllowed: boolean('continuation_allowed').notNull(),
    fallbackAllowed: boolean('fallback_allowed').notNull(),
    premiumModelId: uuid('premium_model_id')
      .notNull()
      .references(() => models.id),
    premiumTier: text('premium_tier').$type<Tier>().notNull(),
    continuationModelId: uuid('continuation_model_id').references(() => models.id),
    continuationTier: text('continuation_tier').$type<Tier>(),
    fallbackModelId: uuid('fallback_model_id').references(() => models.id),
    fallbackTier: text('fallback_tier').$type<Tier>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    check('plans_window_check', sql`${t.window} in ('day', 'week', 'month')`),
    check('plans_limits_check', sql`${t.premiumAllowanceTokens} >= 0 and (${t.concurrency} is null or ${t.concurrency} > 0)`),
    check(
      'plans_lanes_check',
      sql`${TIER_CHECK(t.premiumTier)}
        and (${t.continuationModelId} is null) = (${t.continuationTier} is null) and (${t.continuationTier} is null or ${TIER_CHECK(t.continuationTier)})
        and (${t.fallbackModelId} is null) = (${t.fallbackTier} is null) and (${t.fallbackTier} is null or ${TIER_CHECK(t.fallbackTier)})`,
    ),
  ],
);

export type Plan = typeof plans.$inferSelect;
