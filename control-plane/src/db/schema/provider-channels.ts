import { DEFAULT_TIMEOUTS, type OperatorTier, type ProviderId, type Tier } from '@tollgate/shared';
import { sql } from 'drizzle-orm';
import { boolean, check, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * An operator's provider account, serving the cheap or resale tier for every org (byok requests
 * use only the calling org's own credentials, `byok_credentials`, never a channel). The credential
 * is sealed with envelope encryption (associated data `channel:<id>`); only its last 4 characters
 * are ever shown.
 */
export const providerChannels = pgTable(
  'provider_channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The operator's internal name; never shown to customers. */
    name: text('name').notNull().unique(),
    // The default only gives rows from before providers existed (any OpenAI-compatible URL) a value.
    provider: text('provider').$type<ProviderId>().notNull().default('custom'),
    /** The provider's default (services/credentials.ts, defaultBaseUrl) unless the operator set another. */
    baseUrl: text('base_url').notNull(),
    /** `encodeCredential(...)` sealed by `sealSecret`; rows from before v2 hold a `v1.` plain key until startup converts them. */
    credentialSealed: text('credential_sealed').notNull(),
    credentialLast4: text('credential_last4').notNull(),
    // The default only fills rows from before v2, whose tier startup copies over from legacy_tier.
    tier: text('tier').$type<OperatorTier>().notNull().default('resale'),
    /**
     * The tier of a row from before v2, which could be `byok` (a channel every org could use):
     * startup moves it into `tier` (a byok one becomes a disabled resale channel) and clears it.
     */
    legacyTier: text('legacy_tier').$type<Tier>(),
    enabled: boolean('enabled').notNull().default(true),
    connectTimeoutMs: integer('connect_timeout_ms').notNull().default(DEFAULT_TIMEOUTS.connectMs),
    firstByteTimeoutMs: integer('first_byte_timeout_ms').notNull().default(DEFAULT_TIMEOUTS.firstByteMs),
    idleTimeoutMs: integer('idle_timeout_ms').notNull().default(DEFAULT_TIMEOUTS.idleMs),
    totalTimeoutMs: integer('total_timeout_ms').notNull().default(DEFAULT_TIMEOUTS.totalMs),
    /** Extra attempts on this channel after a retryable failure, before the next target. */
    retries: integer('retries').notNull().default(0),
    /** A target's upstream model name -> the name this channel knows it by. */
    modelMap: jsonb('model_map').$type<Record<string, string>>().notNull().default({}),
    /** Lower-case header name -> value, sent with every request; never a credential header. */
    extraHeaders: jsonb('extra_headers').$type<Record<string, string>>().notNull().default({}),
    maxConcurrency: integer('max_concurrency').notNull().default(1000),
    /**
     * The channel may reach loopback, private, link-local and CGNAT addresses (the operator's own
     * network). Off, only public addresses: rows from before it existed get that.
     */
    allowPrivateNetwork: boolean('allow_private_network').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    // An operator channel is never a byok channel: that tier belongs to each org's own credentials.
    check('provider_channels_tier_check', sql`${t.tier} in ('cheap', 'resale')`),
    check(
      'provider_channels_limits_check',
      sql`${t.connectTimeoutMs} > 0 and ${t.firstByteTimeoutMs} > 0 and ${t.idleTimeoutMs} > 0 and ${t.totalTimeoutMs} > 0 and ${t.retries} >= 0 and ${t.maxConcurrency} > 0`,
    ),
  ],
);

export type ProviderChannel = typeof providerChannels.$inferSelect;
