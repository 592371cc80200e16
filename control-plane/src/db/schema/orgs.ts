import type { Tier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { limitColumns, limitsCheck } from './limits.ts';
import { plans } from './plans.ts';

/** A text[] of tiers: null (no restriction) or a non-empty subset of the tiers. */
export const tierListCheck = (column: unknown) =>
  sql`${column} is null or (cardinality(${column}) > 0 and ${column} <@ array['cheap', 'resale', 'byok']::text[])`;

/** A customer organisation: owns API keys, BYOK credentials, a balance (its ledger) and usage. */
export const orgs = pgTable(
  'orgs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /**
     * The org's unique handle (lower-case letters, digits, dashes): what `createOrg` and `tollgate
     * apply` are idempotent on. Null only for orgs from before slugs, until startup gives them one.
     */
    slug: text('slug').unique(),
    defaultTier: text('default_tier').$type<Tier>().notNull().default('resale'),
    /** Tiers every key of the org may use; null for all. A key's own restriction narrows it further. */
    allowedTiers: text('allowed_tiers').$type<Tier>().array(),
    planId: uuid('plan_id').references(() => plans.id),
    /** Nanocredits: crossing below it writes one low_balance alert (org_alerts); null for none. */
    lowBalanceThreshold: bigint('low_balance_threshold', { mode: 'bigint' }),
    /** Ceilings over all the org's keys (null: none); the operator sets them. */
    ...limitColumns(),
    /** Nanocredits the balance may go below zero; the operator sets it. */
    overdraft: bigint('overdraft', { mode: 'bigint' }).notNull().default(0n),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('orgs_allowed_tiers_check', tierListCheck(t.allowedTiers)),
    check('orgs_limits_check', limitsCheck(t)),
    check('orgs_overdraft_check', sql`${t.overdraft} >= 0`),
  ],
);

export type Org = typeof orgs.$inferSelect;
