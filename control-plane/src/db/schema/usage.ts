import type { AttemptRecord, ChargeKind, Lane, Tier, UsageSource, UsageStatus } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

/** Token counts reach 10^12 (MAX_TOKEN_COUNT): 64-bit columns, exact as JavaScript numbers. */
function tokens(name: string) {
  return bigint(name, { mode: 'number' }).notNull().default(0);
}

/**
 * One row per finished request, written by the usage consumer. The request id is the primary key,
 * which makes consuming a replayed event a no-op.
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    requestId: text('request_id').primaryKey(),
    /** The client's own x-request-id, when it sent a well-formed one, for correlation. */
    clientRequestId: text('client_request_id'),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    // No foreign keys below: the data plane may report ids from a snapshot the database no longer
    // holds, and a usage record must never be refused (it is what the customer is billed for).
    apiKeyId: uuid('api_key_id').notNull(),
    model: text('model').notNull(),
    tier: text('tier').$type<Tier>().notNull(),
    lane: text('lane').$type<Lane>(),
    /** The provider that served the request (the last attempt), null when none was called. */
    provider: text('provider'),
    /** The operator channel, or null for byok (then byok_credential_id) or when none was called. */
    channelId: uuid('channel_id'),
    byokCredentialId: uuid('byok_credential_id'),
    upstreamModel: text('upstream_model'),
    // The default names the only endpoint there was before v2.
    endpoint: text('endpoint').notNull().default('/v1/chat/completions'),
    stream: boolean('stream').notNull(),
    // Five disjoint buckets (shared/src/canonical/usage.ts). Rows from before v2 hold the whole
    // prompt in input and the whole completion in output.
    inputTokens: tokens('input_tokens'),
    cachedInputTokens: tokens('cached_input_tokens'),
    cacheWriteTokens: tokens('cache_write_tokens'),
    outputTokens: tokens('output_tokens'),
    reasoningTokens: tokens('reasoning_tokens'),
    /** Images billed, for endpoints priced per image (`images`); null for every other endpoint. */
    images: integer('images'),
    usageSource: text('usage_source').$type<UsageSource>().notNull(),
    chargeKind: text('charge_kind').$type<ChargeKind>().notNull().default('usage'),
    /** Nanocredits debited: the sell price, or for byok the fee. */
    cost: bigint('cost', { mode: 'bigint' }).notNull(),
    /** Nanocredits the operator pays the provider (0 for byok), for margins. */
    providerCost: bigint('provider_cost', { mode: 'bigint' }).notNull().default(0n),
    /** Nanocredits held at admission; cost never exceeds it. */
    hold: bigint('hold', { mode: 'bigint' }).notNull().default(0n),
    /** The usage priced above the hold and was billed at the hold. */
    overHold: boolean('over_hold').notNull().default(false),
    attempts: jsonb('attempts').$type<AttemptRecord[]>().notNull().default([]),
    status: text('status').$type<UsageStatus>().notNull(),
    httpStatus: integer('http_status').notNull(),
    errorCode: text('error_code'),
    latencyMs: integer('latency_ms').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /**
     * Whether the state store's balance holds this debit. False for an event settled while the
     * store held no balance (after a Redis wipe): the consumer or the seed applies it, once.
     */
    storeDebited: boolean('store_debited').notNull().default(true),
    // Millisecond precision, as JavaScript dates have: connection cursors carry created_at, and a
    // microsecond value would never equal its millisecond cursor.
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('usage_records_org_created_idx').on(t.orgId, t.createdAt),
    // Spend per key and per org over a period, for credit-limit counters and reconcile.
    index('usage_records_key_started_idx').on(t.apiKeyId, t.startedAt),
    index('usage_records_org_started_idx').on(t.orgId, t.startedAt),
    index('usage_records_store_pending_idx').on(t.orgId).where(sql`${t.storeDebited} = false`),
  ],
);

export type UsageRecord = typeof usageRecords.$inferSelect;
