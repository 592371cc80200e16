import type { OperatorTier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { models } from './models.ts';
import { orgs } from './orgs.ts';

/**
 * A sell price as the target's cost times a markup, in basis points (12000 = cost × 1.2), for a
 * model on a tier: for every org (`org_id` null), or for one org, overriding that. Effective-dated
 * like explicit prices (the markup of a scope at an instant is its row with the latest
 * `effective_from` not after it; rows are never updated). A null markup ends the scope's markup
 * from then on: an org's falls back to the model's, the model's to its explicit price. In effect,
 * an org's markup rules over the model's, and the model's over an explicit price.
 */
export const modelMarkups = pgTable(
  'model_markups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    tier: text('tier').$type<OperatorTier>().notNull(),
    orgId: uuid('org_id').references(() => orgs.id),
    markupBps: integer('markup_bps'),
    effectiveFrom: timestamp('effective_from', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Two markups of one scope from the same instant would make that instant's price ambiguous.
    unique('model_markups_scope_effective_key').on(t.modelId, t.tier, t.orgId, t.effectiveFrom).nullsNotDistinct(),
    index('model_markups_org_idx').on(t.orgId),
    check('model_markups_tier_check', sql`${t.tier} in ('cheap', 'resale')`),
    check('model_markups_bps_check', sql`${t.markupBps} is null or (${t.markupBps} >= 0 and ${t.markupBps} <= 1000000)`),
  ],
);

export type ModelMarkup = typeof modelMarkups.$inferSelect;
