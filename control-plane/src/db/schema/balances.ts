import { bigint, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

/**
 * Each org's balance, maintained by a trigger on ledger_entries in the same transaction as every
 * entry (migration "balances"), so reading a balance is one row, not a sum over every debit.
 * `tollgate reconcile` checks it against the ledger's sum.
 */
export const orgBalances = pgTable('org_balances', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => orgs.id),
  balance: bigint('balance', { mode: 'bigint' }).notNull().default(0n),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/**
 * Usage events the database refused (or that could not be decoded): kept whole, never dropped.
 * Their debit is in the state store but not in the ledger until an operator resolves them;
 * reconcile lists them.
 */
export const usageDeadLetters = pgTable(
  'usage_dead_letters',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The stream entry it came from (shard/entry id). */
    streamId: text('stream_id').notNull().unique(),
    /** Read from the payload when it could be, for finding it; the payload is the truth. */
    requestId: text('request_id'),
    orgId: text('org_id'),
    /** Nanocredits the event carried, when it could be read. */
    cost: bigint('cost', { mode: 'bigint' }),
    storeDebited: text('store_debited').$type<'true' | 'false'>().notNull(),
    payload: text('payload').notNull(),
    error: text('error').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** An operator's resolution: when, who, and what was done about the money (services/dead-letters.ts). */
    resolvedAt: timestamp('resolved_at', { withTimezone: true, precision: 3 }),
    resolvedBy: uuid('resolved_by'),
    resolutionNote: text('resolution_note'),
  },
  (t) => [index('usage_dead_letters_org_idx').on(t.orgId)],
);

/**
 * Alerts for an org: `low_balance` is written (by the ledger trigger) once each time the balance
 * crosses the org's low-balance threshold downwards.
 */
export const orgAlerts = pgTable(
  'org_alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    kind: text('kind').$type<'low_balance'>().notNull(),
    balance: bigint('balance', { mode: 'bigint' }).notNull(),
    threshold: bigint('threshold', { mode: 'bigint' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('org_alerts_org_idx').on(t.orgId, t.createdAt)],
);

export type UsageDeadLetter = typeof usageDeadLetters.$inferSelect;
export type OrgAlert = typeof orgAlerts.$inferSelect;
