import { boolean, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** People and automation that call the GraphQL API. Platform admins manage every org. */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  isPlatformAdmin: boolean('is_platform_admin').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type User = typeof users.$inferSelect;
