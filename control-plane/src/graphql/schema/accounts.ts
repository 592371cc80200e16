import { InvalidCredentialsError, InvalidLinkError, changePassword, requestPasswordReset, resetPassword, sendEmailVerification, signIn, signOut, SESSION_TTL_MS, verifyEmail } from '../../services/accounts.ts';
import { ValidationError } from '../../errors.ts';
import { SESSION_COOKIE } from '../../auth/principal.ts';
import type { RateLimiter } from '../../auth/rate-limit.ts';
import type { User } from '../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { ErrorInterface } from './errors.ts';
import type { Context } from '../context.ts';
import { UserRef } from './viewer.ts';

/** Too many attempts: wait `retryAfterSeconds`. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many attempts; try again in ${retryAfterSeconds} s`);
  }
}

builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  description: 'The email or the password is wrong (which one is not said).',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof InvalidCredentialsError,
});
builder.objectType(InvalidLinkError, {
  name: 'InvalidLinkError',
  description: 'A reset, verification or invitation link that is unknown, used or expired.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof InvalidLinkError,
});
builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof RateLimitedError,
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

function limit(ctx: Context, ...hits: [RateLimiter, string][]): void {
  for (const [limiter, key] of hits) {
    if (!limiter.hit(key)) throw new RateLimitedError(Math.ceil(limiter.retryAfterMs(key) / 1000));
  }
}

export function sessionCookie(ctx: Context, value: string, maxAgeSeconds: number): string {
  // __Host- needs Secure; on plain http (local, embedded) the name stays plain.
  const name = ctx.request.secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${ctx.request.secure ? '; Secure' : ''}`;
}

const SignInPayload = builder.objectRef<{ user: User; csrfToken: string; expiresAt: Date }>('SignInPayload').implement({
  description: 'The session is in an httpOnly cookie; send csrfToken in the x-tollgate-csrf header with every request that uses it.',
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    csrfToken: t.exposeString('csrfToken'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const SignInInput = builder.inputType('SignInInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});
const EmailInput = builder.inputType('RequestPasswordResetInput', { fields: (t) => ({ email: t.string({ required: true }) }) });
const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  fields: (t) => ({ token: t.string({ required: true, description: 'From the link in the email.' }), password: t.string({ required: true, description: '10 to 200 characters.' }) }),
});
const VerifyEmailInput = builder.inputType('VerifyEmailInput', { fields: (t) => ({ token: t.string({ required: true }) }) });
const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({ currentPassword: t.string({ required: true, description: 'Empty when the user has none yet.' }), newPassword: t.string({ required: true }) }),
});

const Done = builder.objectRef<{ ok: true }>('Done').implement({ fields: (t) => ({ ok: t.exposeBoolean('ok') }) });

builder.mutationFields((t) => ({
  signIn: t.field({
    type: SignInPayload,
    description: 'Public. Starts a session (an httpOnly, SameSite=Strict cookie). Rate limited per email and per client address.',
    errors: { types: [InvalidCredentialsError, RateLimitedError] },
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      limit(ctx, [ctx.rateLimits.anonymousPerIp, ctx.request.ip ?? 'unknown'], [ctx.rateLimits.signInPerEmail, input.email.trim().toLowerCase()]);
      const signed = await signIn(ctx, { ...input, ip: ctx.request.ip, userAgent: ctx.request.userAgent });
      ctx.setCookies.push(sessionCookie(ctx, signed.sessionSecret, Math.floor(SESSION_TTL_MS / 1000)));
      return signed;
    },
  }),
  signOut: t.field({
    type: Done,
    description: 'Ends the current session (and clears its cookie).',
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => {
      const p = ctx.access.principal;
      if (p?.kind === 'session') await signOut(ctx.db, p.sessionId);
      ctx.setCookies.push(sessionCookie(ctx, '', 0));
      return { ok: true as const };
    },
  }),
  requestPasswordReset: t.field({
    type: Done,
    description: 'Public. Emails a reset link valid for an hour if the account exists; the answer is the same either way.',
    errors: { types: [RateLimitedError] },
    args: { input: t.arg({ type: EmailInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      limit(ctx, [ctx.rateLimits.anonymousPerIp, ctx.request.ip ?? 'unknown'], [ctx.rateLimits.signInPerEmail, input.email.trim().toLowerCase()]);
      await requestPasswordReset(ctx, input.email);
      // Not awaited: how long an SMTP server takes must not tell whether the account exists.
      void ctx.email.deliver();
      return { ok: true as const };
    },
  }),
  resetPassword: t.field({
    type: UserRef,
    description: 'Public. Sets the password from a reset link; every session of the user ends.',
    errors: { types: [InvalidLinkError, ValidationError, RateLimitedError] },
    args: { input: t.arg({ type: ResetPasswordInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      limit(ctx, [ctx.rateLimits.anonymousPerIp, ctx.request.ip ?? 'unknown']);
      return resetPassword(ctx, input.token, input.password);
    },
  }),
  verifyEmail: t.field({
    type: UserRef,
    description: 'Public. Confirms the email address from the verification link.',
    errors: { types: [InvalidLinkError, RateLimitedError] },
    args: { input: t.arg({ type: VerifyEmailInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      limit(ctx, [ctx.rateLimits.anonymousPerIp, ctx.request.ip ?? 'unknown']);
      return verifyEmail(ctx, input.token);
    },
  }),
  sendEmailVerification: t.field({
    type: Done,
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => {
      await sendEmailVerification(ctx, ctx.user!);
      await ctx.email.deliver();
      return { ok: true as const };
    },
  }),
  changePassword: t.field({
    type: UserRef,
    authScopes: { authenticated: true },
    errors: { types: [InvalidCredentialsError, ValidationError] },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    resolve: (_root, { input }, ctx) => changePassword(ctx, ctx.user!, input.currentPassword, input.newPassword),
  }),
}));
