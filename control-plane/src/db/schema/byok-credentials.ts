import type { ProviderId } from '@tollgate/shared';
import { pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

/**
 * A customer's own provider credential, one per org and provider, used only for that org's `byok/`
 * requests. Sealed with envelope encryption bound to the org and the credential id (associated
 * data `byok:<org>:<id>`), so a ciphertext copied to another org's row fails to open. Replacing a
 * credential keeps its id and reseals; only the last 4 characters are ever shown.
 */
export const byokCredentials = pgTable(
  'byok_credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    provider: text('provider').$type<ProviderId>().notNull(),
    credentialSealed: text('credential_sealed').notNull(),
    credentialLast4: text('credential_last4').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [unique('byok_credentials_org_provider_key').on(t.orgId, t.provider)],
);

export type ByokCredential = typeof byokCredentials.$inferSelect;
