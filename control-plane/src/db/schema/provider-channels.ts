import type { ChannelProtocol, Tier } from '@tollgate/shared';
import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * An upstream provider account. The API key is sealed with the master key (associated data
 * `channel:<id>`); only its last 4 characters are ever shown.
 */
export const providerChannels = pgTable('provider_channels', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  protocol: text('protocol').$type<ChannelProtocol>().notNull().default('openai'),
  baseUrl: text('base_url').notNull(),
  apiKeySealed: text('api_key_sealed').notNull(),
  apiKeyLast4: text('api_key_last4').notNull(),
  tier: text('tier').$type<Tier>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type ProviderChannel = typeof providerChannels.$inferSelect;
