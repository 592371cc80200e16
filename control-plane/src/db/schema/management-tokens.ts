import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

/**
 * Bearer tokens for automation (`tgm_...`), created by a user, scoped to one org and a role, or to
 * the platform (org null, role `operator`). A token never grants more than its user has: an org
 * token works only while its user keeps a role there, a platform token only while its user is an
 * operator. Only the SHA-256 is stored.
 */
export const managementTokens = pgTable(
  'management_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    // The default names tokens from before scoping: all of them were platform tokens.
    name: text('name').notNull().default('token'),
    orgId: uuid('org_id').references(() => orgs.id, { onDelete: 'cascade' }),
    role: text('role').notNull().default('operator'),
    tokenHash: text('token_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('management_tokens_user_idx').on(t.userId),
    check(
      'management_tokens_scope_check',
      sql`(${t.orgId} is null and ${t.role} = 'operator') or (${t.orgId} is not null and ${t.role} in ('owner', 'admin', 'developer', 'billing', 'viewer'))`,
    ),
  ],
);

export type ManagementToken = typeof managementTokens.$inferSelect;
