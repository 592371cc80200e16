import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Every state-changing mutation, successful or refused: who (user and, for automation, the token),
 * what (the mutation, its target and its input with secrets removed), when, from where.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    actorUserId: uuid('actor_user_id'),
    actorEmail: text('actor_email'),
    /** session, token, cli (the control socket or a direct database CLI), system */
    actorKind: text('actor_kind').notNull(),
    tokenId: uuid('token_id'),
    /** The org the change belongs to, null for platform-wide changes. */
    orgId: uuid('org_id'),
    action: text('action').notNull(),
    targetId: text('target_id'),
    /** ok, or the typename of the error returned. */
    outcome: text('outcome').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_log_org_at_idx').on(t.orgId, t.at), index('audit_log_at_idx').on(t.at)],
);

export type AuditEntry = typeof auditLog.$inferSelect;
