import { generateSecret } from '@tollgate/shared';
import { and, eq, isNull } from 'drizzle-orm';
import { ORG_ROLES, managementTokens, type ManagementToken, type OrgRole, type User } from '../db/schema/index.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';

export { ForbiddenError };
import type { Access } from '../auth/principal.ts';
import { ROLE_PERMISSIONS } from '../auth/roles.ts';
import type { ServiceContext } from './context.ts';
import { id as idInput, requiredText } from './validate.ts';

/** Management tokens for automation: shown once, stored as a SHA-256, listed by prefix and last 4. */
export interface CreateTokenInput {
  name: string;
  /** null: a platform token (operators only). */
  orgId: string | null;
  role: string | null;
  expiresAt: Date | null;
}

const MAX_TOKEN_LIFETIME_MS = 2 * 365 * 24 * 3600_000;

export function orgRoleInput(value: string, field = 'role'): OrgRole {
  if (!(ORG_ROLES as readonly string[]).includes(value)) throw new ValidationError(`${field} must be one of ${ORG_ROLES.join(', ')}`, field);
  return value as OrgRole;
}

/**
 * Creates a token for `user`. An org token's role can be at most the creator's own there (an
 * operator may pick any); a platform token needs an operator.
 */
export async function createManagementToken(
  ctx: ServiceContext,
  access: Access,
  input: CreateTokenInput,
): Promise<{ token: ManagementToken; secret: string }> {
  const user = access.user!;
  const name = requiredText(input.name, 'name', 100);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new ValidationError('expiresAt must be in the future', 'expiresAt');
  if (input.expiresAt && input.expiresAt.getTime() > Date.now() + MAX_TOKEN_LIFETIME_MS) throw new ValidationError('expiresAt must be within two years', 'expiresAt');
  let orgId: string | null = null;
  let role: OrgRole | 'operator' = 'operator';
  if (input.orgId === null) {
    if (!access.isOperator) throw new ForbiddenError('only platform operators create platform tokens');
    if (input.role !== null && input.role !== 'operator') throw new ValidationError('a platform token has no org role; leave role out', 'role');
  } else {
    orgId = idInput(input.orgId, 'org');
    role = orgRoleInput(input.role ?? 'viewer');
    const own = await access.roleIn(orgId);
    if (!access.isOperator && (own === null || !covers(own, role))) throw new ForbiddenError(`you cannot create a token with more rights than your own role (${own ?? 'none'})`);
    const org = await ctx.db.query.orgs.findFirst({ columns: { id: true }, where: { id: orgId } });
    if (!org) throw new NotFoundError('no org with this id');
  }
  const generated = generateSecret('management_token');
  const [token] = await ctx.db
    .insert(managementTokens)
    .values({ userId: user.id, name, orgId, role, tokenHash: generated.hash, prefix: generated.prefix, last4: generated.last4, expiresAt: input.expiresAt })
    .returning();
  return { token: token!, secret: generated.secret };
}

/** `own` may hand out `wanted` when `wanted` can do nothing `own` cannot (the same role, or a lesser one). */
function covers(own: OrgRole, wanted: OrgRole): boolean {
  return [...ROLE_PERMISSIONS[wanted]].every((p) => ROLE_PERMISSIONS[own].has(p));
}

/** Revokes one of the user's tokens; an operator may revoke anyone's. Revoking twice is harmless. */
export async function revokeManagementToken(ctx: ServiceContext, access: Access, tokenId: string): Promise<ManagementToken> {
  const id = idInput(tokenId, 'token');
  const existing = await ctx.db.query.managementTokens.findFirst({ where: { id } });
  if (!existing || (existing.userId !== access.user!.id && !access.isOperator)) throw new NotFoundError('no token with this id');
  const [revoked] = await ctx.db
    .update(managementTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(managementTokens.id, id), isNull(managementTokens.revokedAt)))
    .returning();
  return revoked ?? existing;
}

export type { User };
