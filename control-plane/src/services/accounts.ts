import { randomBytes } from 'node:crypto';
import { hashSecret } from '@tollgate/shared';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { csrfTokenFor, newSessionSecret } from '../auth/principal.ts';
import { dummyHash, hashPassword, passwordInput, verifyPassword } from '../auth/passwords.ts';
import type { Db } from '../db/connect.ts';
import { sessions, users, userTokens, type User, type UserTokenKind } from '../db/schema/index.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { queueEmail } from './email.ts';

/** People: sign-in to sessions, password resets and email verification by one-time links. */
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
const RESET_TTL_MS = 3600_000;
const VERIFY_TTL_MS = 7 * 24 * 3600_000;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function emailInput(value: string, field = 'email'): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 254) throw new ValidationError(`${field} must be an email address`, field);
  return email;
}

export class InvalidCredentialsError extends Error {
  override name = 'InvalidCredentialsError';
  constructor() {
    super('the email or the password is wrong');
  }
}

export class InvalidLinkError extends Error {
  override name = 'InvalidLinkError';
  constructor() {
    super('this link is invalid, used or expired; ask for a new one');
  }
}

export interface AccountsContext extends ServiceContext {
  /** Where links in emails point, e.g. https://console.example.com */
  publicUrl: string;
}

export interface SignedIn {
  user: User;
  /** The cookie value: shown to the HTTP layer only, never in a response body. */
  sessionSecret: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function signIn(ctx: ServiceContext, input: { email: string; password: string; ip: string | null; userAgent: string | null }): Promise<SignedIn> {
  const email = input.email.trim().toLowerCase();
  const user = await ctx.db.query.users.findFirst({ where: { email } });
  // The same work whether or not the account exists, so timing tells nothing.
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !user.passwordHash || !ok) throw new InvalidCredentialsError();
  const sessionSecret = newSessionSecret(randomBytes(32));
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await ctx.db.insert(sessions).values({
    userId: user.id,
    tokenHash: hashSecret(sessionSecret),
    expiresAt,
    ip: input.ip,
    userAgent: input.userAgent?.slice(0, 300) ?? null,
  });
  return { user, sessionSecret, csrfToken: csrfTokenFor(sessionSecret), expiresAt };
}

export async function signOut(db: Db, sessionId: string): Promise<void> {
  await db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, sessionId));
}

function linkToken(): string {
  return randomBytes(32).toString('base64url');
}

async function issueLink(tx: Db, userId: string, kind: UserTokenKind, ttlMs: number): Promise<string> {
  const token = linkToken();
  await tx.insert(userTokens).values({ userId, kind, tokenHash: hashSecret(token), expiresAt: new Date(Date.now() + ttlMs) });
  return token;
}

/** Always succeeds, so the answer does not reveal whether an account exists. */
export async function requestPasswordReset(ctx: AccountsContext, emailText: string): Promise<void> {
  const email = emailText.trim().toLowerCase();
  const user = await ctx.db.query.users.findFirst({ where: { email } });
  if (!user) return;
  await ctx.db.transaction(async (tx) => {
    const token = await issueLink(tx, user.id, 'password_reset', RESET_TTL_MS);
    await queueEmail(tx, {
      to: user.email,
      subject: 'Reset your Tollgate password',
      body: `Set a new password within an hour: ${ctx.publicUrl}/reset-password#token=${token}\nIf you did not ask for this, ignore this email.`,
    });
  });
}

async function useLink(tx: Db, token: string, kind: UserTokenKind): Promise<string> {
  const [used] = await tx
    .update(userTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(userTokens.tokenHash, hashSecret(token)), eq(userTokens.kind, kind), isNull(userTokens.usedAt), gt(userTokens.expiresAt, new Date())))
    .returning({ userId: userTokens.userId });
  if (!used) throw new InvalidLinkError();
  return used.userId;
}

/** Sets the password from a reset link; every session of the user ends. */
export async function resetPassword(ctx: ServiceContext, token: string, password: string): Promise<User> {
  const hash = await hashPassword(passwordInput(password));
  return ctx.db.transaction(async (tx) => {
    const userId = await useLink(tx, token, 'password_reset');
    await tx.update(sessions).set({ revokedAt: new Date() }).where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    // The link arrived by email, so the address is proven too.
    const [user] = await tx.update(users).set({ passwordHash: hash, emailVerifiedAt: new Date() }).where(eq(users.id, userId)).returning();
    return user!;
  });
}

export async function changePassword(ctx: ServiceContext, user: User, current: string, next: string): Promise<User> {
  const password = passwordInput(next, 'newPassword');
  if (user.passwordHash && !(await verifyPassword(current, user.passwordHash))) throw new InvalidCredentialsError();
  const [updated] = await ctx.db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, user.id)).returning();
  return updated!;
}

export async function sendEmailVerification(ctx: AccountsContext, user: User): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const token = await issueLink(tx, user.id, 'email_verification', VERIFY_TTL_MS);
    await queueEmail(tx, { to: user.email, subject: 'Confirm your email for Tollgate', body: `Confirm this address: ${ctx.publicUrl}/verify-email#token=${token}` });
  });
}

export async function verifyEmail(ctx: ServiceContext, token: string): Promise<User> {
  return ctx.db.transaction(async (tx) => {
    const userId = await useLink(tx, token, 'email_verification');
    const [user] = await tx.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, userId)).returning();
    if (!user) throw new NotFoundError('no such user');
    return user;
  });
}
