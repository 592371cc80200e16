import { bigint, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

/** usage: a request's sell price; byok_fee: the fee on a byok request (DESIGN.md, "BYOK"). */
export type LedgerKind = 'adjustment' | 'usage' | 'byok_fee';

/**
 * Append-only: every movement of an org's money is one entry, and the balance is their sum.
 * `idempotency_key` is unique so a retried credit or a replayed usage event adds nothing.
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    kind: text('kind').$type<LedgerKind>().notNull(),
    reason: text('reason').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    requestId: text('request_id'),
    createdBy: uuid('created_by').references(() => users.id),
    // Millisecond precision, as JavaScript dates have: the Org.ledgerEntries connection's cursors
    // carry created_at, and a microsecond value would never equal its millisecond cursor.
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('ledger_entries_org_id_idx').on(t.orgId, t.createdAt)],
);

export type LedgerEntry = typeof ledgerEntries.$inferSelect;
