import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * What the data plane must see, written in the same transaction as the change it announces and
 * published after commit by services/outbox.ts (retried until the state store takes it, then
 * deleted). A crash between commit and publication leaves the row, so no committed change is lost.
 */
export type PublicationKind = 'key' | 'org_keys' | 'routes' | 'byok' | 'balance' | 'credit' | 'key_removed';

export const publications = pgTable(
  'publication_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<PublicationKind>().notNull(),
    /** Ids only (key id, org id, ...): the publisher reads the current rows, never a copy. */
    payload: jsonb('payload').$type<Record<string, string>>().notNull().default({}),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('publication_outbox_next_idx').on(t.nextAttemptAt)],
);

/**
 * Emails to send (password resets, verifications, invitations). The body holds a one-time link,
 * so it is cleared once the message is delivered or given up on; without SMTP, delivery is a log
 * line. A message is pending while neither `sent_at` nor `failed_at` is set, and due from
 * `next_attempt_at` on (services/email.ts backs off after each temporary failure).
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    body: text('body'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Set when the server refused the message for good (5xx) or every attempt was spent. */
    failedAt: timestamp('failed_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('email_outbox_next_idx').on(t.nextAttemptAt)],
);

export type Publication = typeof publications.$inferSelect;
export type EmailMessage = typeof emailOutbox.$inferSelect;
