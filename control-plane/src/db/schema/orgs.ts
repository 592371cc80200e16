import type { Tier } from '@tollgate/shared';
import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A customer organisation: owns API keys, a balance (its ledger) and usage. */
export const orgs = pgTable('orgs', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  defaultTier: text('default_tier').$type<Tier>().notNull().default('resale'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Org = typeof orgs.$inferSelect;
