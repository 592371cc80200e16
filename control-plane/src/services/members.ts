import { randomBytes } from 'node:crypto';
import { hashSecret } from '@tollgate/shared';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Access } from '../auth/principal.ts';
import { hashPassword, passwordInput } from '../auth/passwords.ts';
import type { Db } from '../db/connect.ts';
import { apiKeys, invitations, orgMembers, users, type Invitation, type OrgMember, type OrgRole, type User } from '../db/schema/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { InvalidLinkError, emailInput, type AccountsContext } from './accounts.ts';
import { queueEmail } from './email.ts';
import type { ServiceContext } from './context.ts';
import { optionalAmount } from './limits.ts';
import { ForbiddenError, orgRoleInput } from './tokens.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput } from './validate.ts';

/**
 * Org membership. Invariant: every org keeps at least one owner. Changes that could take the last
 * owner away lock the org's owner rows first (FOR UPDATE), so two concurrent demotions cannot both pass.
 */
const INVITATION_TTL_MS = 7 * 24 * 3600_000;

export class LastOwnerError extends Error {
  override name = 'LastOwnerError';
  constructor() {
    super('an org must keep an owner: make someone else owner first');
  }
}

async function lockOwners(tx: Db, orgId: string): Promise<string[]> {
  const rows = await tx
    .select({ userId: orgMembers.userId })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.role, 'owner')))
    .for('update');
  return rows.map((r) => r.userId);
}

/** Only an owner (or an operator) may grant, change or remove the owner role. */
async function assertMayAssign(access: Access, orgId: string, from: OrgRole | null, to: OrgRole | null): Promise<void> {
  if (from !== 'owner' && to !== 'owner') return;
  if (access.isOperator || (await access.roleIn(orgId)) === 'owner') return;
  throw new ForbiddenError('only an owner can grant or take the owner role');
}

/** Adds a user (created without a password if new) to an org, directly: for operators, bootstrap and `apply`. */
export async function addMember(db: Db, orgId: string, email: string, role: OrgRole): Promise<OrgMember> {
  return db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ email }).onConflictDoUpdate({ target: users.email, set: { email } }).returning();
    const [member] = await tx
      .insert(orgMembers)
      .values({ orgId, userId: user!.id, role })
      .onConflictDoUpdate({ target: [orgMembers.orgId, orgMembers.userId], set: { role } })
      .returning();
    return member!;
  });
}

export async function inviteMember(ctx: AccountsContext, access: Access, input: { orgId: string; email: string; role: string }): Promise<{ invitation: Invitation }> {
  const orgId = idInput(input.orgId, 'org');
  const email = emailInput(input.email);
  const role = orgRoleInput(input.role);
  await assertMayAssign(access, orgId, null, role);
  const org = await ctx.db.query.orgs.findFirst({ where: { id: orgId } });
  if (!org) throw new NotFoundError('no org with this id');
  const existing = await ctx.db
    .select({ id: orgMembers.id })
    .from(orgMembers)
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(and(eq(orgMembers.orgId, orgId), eq(users.email, email)));
  if (existing.length > 0) throw new ConflictError(`${email} is already a member`);
  const token = randomBytes(32).toString('base64url');
  const invitation = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(invitations)
      .values({ orgId, email, role, tokenHash: hashSecret(token), invitedBy: access.user?.id ?? null, expiresAt: new Date(Date.now() + INVITATION_TTL_MS) })
      .returning();
    await queueEmail(tx, {
      to: email,
      subject: `You are invited to ${org.name} on Tollgate`,
      body: `Join ${org.name} as ${role} within 7 days: ${ctx.publicUrl}/accept-invitation#token=${token}`,
    });
    return row!;
  });
  return { invitation };
}

/**
 * Accepts an invitation: the signed-in user if any (whose email must match), else the invited
 * email's account, created or given a password here when it has none.
 */
export async function acceptInvitation(db: Db, input: { token: string; password: string | null; user: User | null }): Promise<OrgMember> {
  const hash = input.password !== null ? await hashPassword(passwordInput(input.password)) : null;
  return db.transaction(async (tx) => {
    const [invitation] = await tx
      .update(invitations)
      .set({ acceptedAt: new Date() })
      .where(
        and(eq(invitations.tokenHash, hashSecret(input.token)), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())),
      )
      .returning();
    if (!invitation) throw new InvalidLinkError();
    if (input.user && input.user.email !== invitation.email) throw new ValidationError('this invitation is for another email address; sign out first', 'token');
    let user: User | undefined = input.user ?? (await tx.query.users.findFirst({ where: { email: invitation.email } }));
    if (!user) {
      if (!hash) throw new ValidationError('choose a password to create your account', 'password');
      [user] = await tx.insert(users).values({ email: invitation.email, passwordHash: hash, emailVerifiedAt: new Date() }).returning();
    } else if (!user.passwordHash && hash) {
      [user] = await tx.update(users).set({ passwordHash: hash, emailVerifiedAt: new Date() }).where(eq(users.id, user.id)).returning();
    }
    const [member] = await tx
      .insert(orgMembers)
      .values({ orgId: invitation.orgId, userId: user!.id, role: invitation.role })
      .onConflictDoUpdate({ target: [orgMembers.orgId, orgMembers.userId], set: { role: invitation.role } })
      .returning();
    return member!;
  });
}

export async function revokeInvitation(db: Db, invitationId: string): Promise<Invitation> {
  const [row] = await db.update(invitations).set({ revokedAt: new Date() }).where(eq(invitations.id, idInput(invitationId, 'invitation'))).returning();
  if (!row) throw new NotFoundError('no invitation with this id');
  return row;
}

export async function findMember(db: Db, memberId: string): Promise<OrgMember> {
  const member = await db.query.orgMembers.findFirst({ where: { id: idInput(memberId, 'member') } });
  if (!member) throw new NotFoundError('no member with this id');
  return member;
}

export async function changeMemberRole(db: Db, access: Access, memberId: string, roleText: string): Promise<OrgMember> {
  const role = orgRoleInput(roleText);
  const member = await findMember(db, memberId);
  await assertMayAssign(access, member.orgId, member.role, role);
  return db.transaction(async (tx) => {
    const owners = await lockOwners(tx, member.orgId);
    if (member.role === 'owner' && role !== 'owner' && owners.length <= 1) throw new LastOwnerError();
    const [updated] = await tx.update(orgMembers).set({ role }).where(eq(orgMembers.id, member.id)).returning();
    return updated!;
  });
}

/**
 * Removes a member. The keys that belonged to them are disabled (their secrets are the member's;
 * nobody else should keep spending with them) and become org keys: an admin may enable one again.
 */
export async function removeMember(ctx: ServiceContext, access: Access, memberId: string): Promise<OrgMember> {
  const member = await findMember(ctx.db, memberId);
  // Anyone may leave an org; removing someone else needs members:manage (checked by authScopes).
  await assertMayAssign(access, member.orgId, member.role, null);
  return commitChange(ctx, async (tx, publish) => {
    const owners = await lockOwners(tx, member.orgId);
    if (member.role === 'owner' && owners.length <= 1) throw new LastOwnerError();
    await tx.update(apiKeys).set({ status: 'disabled' }).where(and(eq(apiKeys.memberId, member.id), eq(apiKeys.status, 'active')));
    const owned = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.memberId, member.id));
    // The foreign key sets their member_id to null with the member's row.
    await tx.delete(orgMembers).where(eq(orgMembers.id, member.id));
    for (const key of owned) publish({ kind: 'key', keyId: key.id });
    return member;
  });
}

/**
 * What the keys that belong to a member may spend per calendar month (UTC), in nanocredits; null
 * for no allowance. Their key records carry it, so the data plane refuses a request past it
 * (credit_limit_reached).
 */
export async function setMemberAllowance(ctx: ServiceContext, memberId: string, allowance: bigint | null): Promise<OrgMember> {
  const member = await findMember(ctx.db, memberId);
  const monthlyAllowance = optionalAmount(allowance, 'monthlyAllowance');
  return commitChange(ctx, async (tx, publish) => {
    const [row] = await tx.update(orgMembers).set({ monthlyAllowance }).where(eq(orgMembers.id, member.id)).returning();
    if (!row) throw new NotFoundError('no member with this id');
    const keys = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.memberId, member.id));
    for (const key of keys) publish({ kind: 'key', keyId: key.id });
    return row;
  });
}

export async function ownerCount(db: Db, orgId: string): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)::text` }).from(orgMembers).where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.role, 'owner')));
  return Number(row?.n ?? 0);
}
