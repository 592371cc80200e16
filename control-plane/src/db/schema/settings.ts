import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, timestamp } from 'drizzle-orm/pg-core';

export const DEFAULT_BYOK_FEE_BPS = 500;

/**
 * Platform-wide settings: at most one row (its key is always true). Until an operator changes a
 * setting there is no row, and readers use the defaults.
 */
export const platformSettings = pgTable(
  'platform_settings',
  {
    id: boolean('id').primaryKey().default(true),
    /** The BYOK fee in basis points of the provider's list price for the same usage (500 = 5%). */
    byokFeeBps: integer('byok_fee_bps').notNull().default(DEFAULT_BYOK_FEE_BPS),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    check('platform_settings_single_row', sql`${t.id}`),
    check('platform_settings_byok_fee_check', sql`${t.byokFeeBps} between 0 and 10000`),
  ],
);

export type PlatformSettings = typeof platformSettings.$inferSelect;
