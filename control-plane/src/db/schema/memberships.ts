import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

export const ORG_ROLES = ['owner', 'admin', 'developer', 'billing', 'viewer'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

const roleCheck = (column: unknown) => sql`${column} in ('owner', 'admin', 'developer', 'billing', 'viewer')`;

/** A user's role in an org. Invariant (services/members.ts): every org keeps at least one owner. */
export const orgMembers = pgTable(
  'org_members',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role').$type<OrgRole>().notNull(),
    /**
     * Nanocredits the keys that belong to this member may spend per calendar month (UTC); null for
     * no allowance. Set by owners and admins.
     */
    monthlyAllowance: bigint('monthly_allowance', { mode: 'bigint' }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    unique('org_members_org_user_key').on(t.orgId, t.userId),
    index('org_members_user_idx').on(t.userId),
    check('org_members_role_check', roleCheck(t.role)),
    check('org_members_allowance_check', sql`${t.monthlyAllowance} is null or ${t.monthlyAllowance} >= 0`),
  ],
);

/** An invitation by email link: accepted once, before it expires, by whoever holds the link. */
export const invitations = pgTable(
  'invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role').$type<OrgRole>().notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: uuid('invited_by').references(() => users.id),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('invitations_org_idx').on(t.orgId), check('invitations_role_check', roleCheck(t.role))],
);

export type OrgMember = typeof orgMembers.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
