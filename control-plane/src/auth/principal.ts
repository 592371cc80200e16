import { createHash } from 'node:crypto';
import { hashSecret, isWellFormedSecret } from '@tollgate/shared';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { managementTokens, sessions, type OrgRole, type User } from '../db/schema/index.ts';
import { isUuid } from '../errors.ts';
import { roleAllows, type Permission } from './roles.ts';

/** Who is calling: a signed-in user (session cookie) or automation (management token). */
export type Principal =
  | { kind: 'session'; user: User; sessionId: string }
  | { kind: 'token'; user: User; tokenId: string; tokenOrgId: string | null; tokenRole: OrgRole | 'operator' };

/** The cookie that carries a session's secret; `__Host-` where the API is served over https. */
export const SESSION_COOKIE = 'tollgate_session';
export const CSRF_HEADER = 'x-tollgate-csrf';
const SESSION_PREFIX = 'tgs_';

/** The CSRF token of a session: derived from its secret, so nothing extra is stored or leaked. */
export function csrfTokenFor(sessionSecret: string): string {
  return createHash('sha256').update('tollgate-csrf\0').update(sessionSecret).digest('base64url');
}

export function isSessionSecret(text: string): boolean {
  return text.startsWith(SESSION_PREFIX) && /^[A-Za-z0-9_-]{40,80}$/.test(text.slice(SESSION_PREFIX.length));
}

export function newSessionSecret(random: Buffer): string {
  return `${SESSION_PREFIX}${random.toString('base64url')}`;
}

/** last_used_at is written at most this often per token or session: a read must not mean a write each time. */
const TOUCH_INTERVAL_MS = 60_000;

export async function principalFromToken(db: Db, token: string, now = new Date()): Promise<Principal | null> {
  if (!isWellFormedSecret(token, 'management_token')) return null;
  const row = await db.query.managementTokens.findFirst({
    where: { tokenHash: hashSecret(token), revokedAt: { isNull: true } },
    with: { user: true },
  });
  if (!row || (row.expiresAt && row.expiresAt.getTime() <= now.getTime())) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await db
      .update(managementTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(managementTokens.id, row.id), or(isNull(managementTokens.lastUsedAt), lt(managementTokens.lastUsedAt, new Date(now.getTime() - TOUCH_INTERVAL_MS)))));
  }
  return { kind: 'token', user: row.user, tokenId: row.id, tokenOrgId: row.orgId, tokenRole: row.role as OrgRole | 'operator' };
}

export async function principalFromSession(db: Db, secret: string, now = new Date()): Promise<Principal | null> {
  if (!isSessionSecret(secret)) return null;
  const row = await db.query.sessions.findFirst({ where: { tokenHash: hashSecret(secret), revokedAt: { isNull: true } }, with: { user: true } });
  if (!row || row.expiresAt.getTime() <= now.getTime()) return null;
  if (now.getTime() - row.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, row.id));
  }
  return { kind: 'session', user: row.user, sessionId: row.id };
}

/**
 * What a principal may do, answered from its memberships (loaded once per request). Resolvers and
 * `authScopes` ask this; nothing else decides access.
 */
export class Access {
  private memberships: Promise<Map<string, OrgRole>> | null = null;

  constructor(
    private readonly db: Db,
    readonly principal: Principal | null,
  ) {}

  get user(): User | null {
    return this.principal?.user ?? null;
  }

  /** Platform operators manage everything; an org-scoped token of an operator acts only in its org. */
  get isOperator(): boolean {
    const p = this.principal;
    if (!p || !p.user.isPlatformAdmin) return false;
    return p.kind === 'session' || p.tokenOrgId === null;
  }

  private loadMemberships(): Promise<Map<string, OrgRole>> {
    this.memberships ??= (async () => {
      const user = this.user;
      if (!user) return new Map();
      const rows = await this.db.query.orgMembers.findMany({ columns: { orgId: true, role: true }, where: { userId: user.id } });
      return new Map(rows.map((r) => [r.orgId, r.role]));
    })();
    return this.memberships;
  }

  /** The caller's effective role in an org, or null. A token's role is capped by its user's membership. */
  async roleIn(orgId: string): Promise<OrgRole | null> {
    const p = this.principal;
    if (!p || !isUuid(orgId)) return null;
    if (p.kind === 'token' && p.tokenOrgId !== null && p.tokenOrgId !== orgId) return null;
    if (p.kind === 'token' && p.tokenOrgId === null) return null; // a platform token acts through isOperator only
    const member = (await this.loadMemberships()).get(orgId) ?? null;
    if (p.kind === 'session') return member;
    const tokenRole = p.tokenRole as OrgRole;
    // An operator's org token needs no membership; anyone else's lapses with the membership.
    if (p.user.isPlatformAdmin) return tokenRole;
    return member === null ? null : weaker(tokenRole, member);
  }

  async can(orgId: string | null | undefined, permission: Permission): Promise<boolean> {
    if (this.isOperator) return true;
    if (!orgId) return false;
    const role = await this.roleIn(orgId);
    if (role === null) return false;
    if (this.principal?.kind === 'token') {
      // Intersection of the token's role and the membership's.
      const p = this.principal;
      const member = (await this.loadMemberships()).get(orgId);
      if (!roleAllows(p.tokenRole as OrgRole, permission)) return false;
      if (!p.user.isPlatformAdmin && (!member || !roleAllows(member, permission))) return false;
      return true;
    }
    return roleAllows(role, permission);
  }

  /** The orgs the caller may read, or 'all' for operators. */
  async readableOrgIds(): Promise<string[] | 'all'> {
    if (this.isOperator) return 'all';
    const p = this.principal;
    if (!p) return [];
    if (p.kind === 'token') return p.tokenOrgId && (await this.roleIn(p.tokenOrgId)) ? [p.tokenOrgId] : [];
    return [...(await this.loadMemberships()).keys()];
  }
}

const RANK: Record<OrgRole, number> = { owner: 4, admin: 3, developer: 2, billing: 1, viewer: 0 };

/** For display: the lower of two roles (permissions are intersected separately). */
function weaker(a: OrgRole, b: OrgRole): OrgRole {
  return RANK[a] <= RANK[b] ? a : b;
}
