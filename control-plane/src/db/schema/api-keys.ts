import type { KeyStatus, Tier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { limitColumns, limitsCheck } from './limits.ts';
import { orgMembers } from './memberships.ts';
import { orgs, tierListCheck } from './orgs.ts';

/** active and disabled can turn into each other; revoked is final. */
export type ApiKeyStatus = KeyStatus;

/** Customer API keys (`tg_...`) for the data plane. Only the SHA-256 is stored. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    status: text('status').$type<ApiKeyStatus>().notNull().default('active'),
    /** Tiers this key may use, within its org's; null for all the org allows. */
    allowedTiers: text('allowed_tiers').$type<Tier>().array(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** The key's own limits (null: none), within its org's ceilings and its member's allowance. */
    ...limitColumns(),
    /** Free-form labels (at most 32, bounded sizes; services/limits.ts): for the owner, never sent upstream. */
    metadata: jsonb('metadata').$type<Record<string, string>>(),
    /**
     * The member the key belongs to: its spend counts against their monthly allowance. Set when a
     * member creates a key (services/api-keys.ts), null for an org (service) key. A member who
     * leaves takes nothing with them: their keys are disabled and become org keys.
     */
    memberId: uuid('member_id').references(() => orgMembers.id, { onDelete: 'set null' }),
    /**
     * After a rotation with a grace period, the replaced secret's hash and when it stops working:
     * both secrets are published until then (services/api-keys.ts).
     */
    previousKeyHash: text('previous_key_hash').unique(),
    previousExpiresAt: timestamp('previous_expires_at', { withTimezone: true, precision: 3 }),
    createdBy: uuid('created_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('api_keys_org_id_idx').on(t.orgId),
    index('api_keys_member_id_idx').on(t.memberId),
    check('api_keys_status_check', sql`${t.status} in ('active', 'disabled', 'revoked')`),
    check('api_keys_allowed_tiers_check', tierListCheck(t.allowedTiers)),
    check('api_keys_limits_check', limitsCheck(t)),
  ],
);

export type ApiKey = typeof apiKeys.$inferSelect;
