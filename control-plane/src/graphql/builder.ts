import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { relations, type Relations } from '../db/relations.ts';
import type { Context } from './context.ts';

export interface PothosTypes {
  Context: Context;
  DrizzleRelations: Relations;
  // Fields are non-null unless marked nullable: most values always exist, and clients can rely on it.
  DefaultFieldNullability: false;
  AuthScopes: { authenticated: boolean; platformAdmin: boolean };
  Scalars: {
    /** Exact decimal credits on the wire, nanocredits (bigint) inside. */
    Credits: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
    /** Token counts reach 10^12: beyond GraphQL's 32-bit Int, within a double's exact integers. */
    TokenCount: { Input: number; Output: number };
    ID: { Input: string; Output: string };
  };
}

// Plugin order per the Pothos docs: relay before scope-auth, scope-auth before the rest.
export const builder = new SchemaBuilder<PothosTypes>({
  plugins: [RelayPlugin, ScopeAuthPlugin, DrizzlePlugin, ErrorsPlugin],
  defaultFieldNullability: false,
  relay: {},
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.user !== null,
      platformAdmin: ctx.user?.isPlatformAdmin === true,
    }),
  },
  drizzle: {
    // The database is chosen at startup (Postgres or PGlite), so the client comes from the context.
    client: (ctx) => ctx.db,
    getTableConfig,
    relations,
  },
  errors: {
    defaultTypes: [],
  },
});
