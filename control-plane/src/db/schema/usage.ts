import type { Tier, UsageSource, UsageStatus } from '@tollgate/shared';
import { bigint, boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

/**
 * One row per finished request, written by the usage consumer. The request id is the primary key,
 * which makes consuming a replayed event a no-op.
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    requestId: text('request_id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    // No foreign keys below: the data plane may report ids from a snapshot the database no longer
    // holds, and a usage record must never be refused (it is what the customer is billed for).
    apiKeyId: uuid('api_key_id').notNull(),
    model: text('model').notNull(),
    tier: text('tier').$type<Tier>().notNull(),
    channelId: uuid('channel_id').notNull(),
    upstreamModel: text('upstream_model').notNull(),
    stream: boolean('stream').notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    usageSource: text('usage_source').$type<UsageSource>().notNull(),
    cost: bigint('cost', { mode: 'bigint' }).notNull(),
    status: text('status').$type<UsageStatus>().notNull(),
    httpStatus: integer('http_status').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    // Millisecond precision, as JavaScript dates have: connection cursors carry created_at, and a
    // microsecond value would never equal its millisecond cursor.
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('usage_records_org_created_idx').on(t.orgId, t.createdAt)],
);

export type UsageRecord = typeof usageRecords.$inferSelect;
