import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Permission } from '../auth/roles.ts';
import { relations, type Relations } from '../db/relations.ts';
import { ForbiddenError } from '../errors.ts';
import type { Context } from './context.ts';

/** `org` scope: the caller holds `can` in the org `id` (operators hold everything; null ids nothing). */
export interface OrgScope {
  id: string | null | undefined;
  can: Permission;
}

export interface PothosTypes {
  Context: Context;
  DrizzleRelations: Relations;
  // Fields are non-null unless marked nullable: most values always exist, and clients can rely on it.
  DefaultFieldNullability: false;
  AuthScopes: { authenticated: boolean; platformAdmin: boolean; org: OrgScope };
  Scalars: {
    /** Exact decimal credits on the wire, nanocredits (bigint) inside. */
    Credits: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
    /** Token counts reach 10^12: beyond GraphQL's 32-bit Int, within a double's exact integers. */
    TokenCount: { Input: number; Output: number };
    ID: { Input: string; Output: string };
  };
}

/** Page sizes of every connection: small enough that the cost limit (graphql/limits.ts) holds. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

// Plugin order per the Pothos docs: relay before scope-auth, scope-auth before drizzle. The errors
// plugin comes before scope-auth (plugins listed first wrap the others), so an authorization
// failure of a mutation is returned as the typed ForbiddenError of its result union.
export const builder = new SchemaBuilder<PothosTypes>({
  plugins: [RelayPlugin, ErrorsPlugin, ScopeAuthPlugin, DrizzlePlugin],
  defaultFieldNullability: false,
  relay: {},
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.access.user !== null,
      platformAdmin: ctx.access.isOperator,
      org: (scope: OrgScope) => ctx.access.can(scope.id, scope.can),
    }),
    // A typed error: mutations list ForbiddenError in their result union; queries carry it as an
    // error with extensions.code FORBIDDEN.
    unauthorizedError: () => new ForbiddenError('you are not allowed to do this'),
  },
  drizzle: {
    // The database is chosen at startup (Postgres or PGlite), so the client comes from the context.
    client: (ctx) => ctx.db,
    getTableConfig,
    relations,
    maxConnectionSize: MAX_PAGE_SIZE,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
  },
  errors: {
    defaultTypes: [ForbiddenError],
  },
});
