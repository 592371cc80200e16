import { boolean, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * People who use the GraphQL API and the console. Platform operators (the business running
 * Tollgate) manage everything; everyone else acts through org memberships. `password_hash` is a
 * scrypt hash (services/passwords.ts), null for a user who has not set a password yet (invited,
 * or bootstrapped by `tollgate admin create` and using tokens only).
 */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  isPlatformAdmin: boolean('is_platform_admin').notNull().default(false),
  passwordHash: text('password_hash'),
  emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, precision: 3 }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type User = typeof users.$inferSelect;
