import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../auth/passwords.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { users } from '../db/schema/index.ts';
import type { EmailMessageInput } from '../services/email.ts';
import { createOrg, generousRateLimits, memberWithToken, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';

/** People: passwords, sessions with CSRF, reset and verification links, invitations, owners, tokens. */
let h: Harness;
const mails: EmailMessageInput[] = [];

beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits(), emailTransport: { send: async (m) => void mails.push(m) } });
});
afterAll(async () => {
  await h?.cleanup();
});

const PASSWORD = 'correct horse battery staple';

async function userWithPassword(email = `${unique('u')}@example.com`): Promise<string> {
  await h.database.db.insert(users).values({ email, passwordHash: await hashPassword(PASSWORD) });
  return email;
}

async function signIn(email: string, password = PASSWORD) {
  const response = await h.post({ query: `mutation($i: SignInInput!) { signIn(input: $i) { __typename ... on MutationSignInSuccess { data { csrfToken user { email } } } } }`, variables: { i: { email, password } } });
  const body = (await response.json()) as { data: { signIn: { __typename: string; data?: { csrfToken: string } } } };
  const cookie = response.headers.get('set-cookie');
  return { typename: body.data.signIn.__typename, csrf: body.data.signIn.data?.csrfToken ?? null, cookie: cookie?.split(';')[0] ?? null, setCookie: cookie };
}

function linkToken(mail: EmailMessageInput): string {
  return /#token=([A-Za-z0-9_-]+)/.exec(mail.body)![1]!;
}

describe('sign-in', () => {
  it('sets an httpOnly SameSite=Strict cookie, and the session works only with its CSRF token', async () => {
    const email = await userWithPassword();
    const s = await signIn(email);
    expect(s.typename).toBe('MutationSignInSuccess');
    expect(s.setCookie).toMatch(/^tollgate_session=tgs_[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/);
    const viewer = { query: '{ viewer { email } }' };
    const withCsrf = await h.post(viewer, { cookie: s.cookie!, 'x-tollgate-csrf': s.csrf! });
    expect(await withCsrf.json()).toEqual({ data: { viewer: { email } } });
    const noCsrf = await h.post(viewer, { cookie: s.cookie! });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('CSRF_TOKEN_MISSING');
    const wrongCsrf = await h.post(viewer, { cookie: s.cookie!, 'x-tollgate-csrf': 'x' });
    expect(wrongCsrf.status).toBe(403);
  });

  it('refuses a wrong password and an unknown email alike, and signing out ends the session', async () => {
    const email = await userWithPassword();
    expect((await signIn(email, 'not the password')).typename).toBe('InvalidCredentialsError');
    expect((await signIn(`${unique('nobody')}@example.com`)).typename).toBe('InvalidCredentialsError');
    const s = await signIn(email);
    const headers = { cookie: s.cookie!, 'x-tollgate-csrf': s.csrf! };
    const out = await h.post({ query: 'mutation { signOut { ok } }' }, headers);
    expect(out.headers.get('set-cookie')).toMatch(/^tollgate_session=; .*Max-Age=0/);
    const after = await h.post({ query: '{ viewer { email } }' }, headers);
    expect(after.status).toBe(401);
  });

  it('is rate limited per email', async () => {
    // The production limit is 10 per 15 minutes; 2 here keeps the test fast (each attempt hashes).
    const limited = await createHarness({ database: 'pglite', rateLimits: { ...generousRateLimits(), signInPerEmail: new RateLimiter(2, 60_000) } });
    try {
      const email = `${unique('brute')}@example.com`;
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await limited.post({ query: `mutation($i: SignInInput!) { signIn(input: $i) { __typename } }`, variables: { i: { email, password: `guess-${i}-xxxxxxxx` } } });
        outcomes.push(((await r.json()) as { data: { signIn: { __typename: string } } }).data.signIn.__typename);
      }
      expect(outcomes).toEqual(['InvalidCredentialsError', 'InvalidCredentialsError', 'RateLimitedError']);
    } finally {
      await limited.cleanup();
    }
  });
});

describe('password reset and email verification', () => {
  it('emails a one-time link; resetting sets the password and ends every session', async () => {
    const email = await userWithPassword();
    const old = await signIn(email);
    mails.length = 0;
    const anon = (query: string, variables: Record<string, unknown>) => h.gql(query, variables, null);
    const asked = await anon(`mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { __typename } }`, { i: { email } });
    expect(asked.data).toEqual({ requestPasswordReset: { __typename: 'MutationRequestPasswordResetSuccess' } });
    await h.controlPlane.email.deliver();
    expect(mails.map((m) => [m.to, m.subject])).toEqual([[email, 'Reset your Tollgate password']]);
    const token = linkToken(mails[0]!);
    const reset = `mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { __typename ... on MutationResetPasswordSuccess { data { email emailVerified } } } }`;
    expect((await anon(reset, { i: { token, password: 'a brand new password' } })).data!.resetPassword).toEqual({ __typename: 'MutationResetPasswordSuccess', data: { email, emailVerified: true } });
    expect((await anon(reset, { i: { token, password: 'another new password' } })).data!.resetPassword.__typename).toBe('InvalidLinkError');
    expect((await h.post({ query: '{ viewer { email } }' }, { cookie: old.cookie!, 'x-tollgate-csrf': old.csrf! })).status).toBe(401);
    expect((await signIn(email, 'a brand new password')).typename).toBe('MutationSignInSuccess');
    // An unknown email gets the same answer and no mail.
    mails.length = 0;
    expect((await anon(`mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { __typename } }`, { i: { email: 'nobody@example.com' } })).data).toEqual(asked.data);
    await h.controlPlane.email.deliver();
    expect(mails).toEqual([]);
    // The delivered body is cleared: the link lives only in the mailbox.
    expect((await h.database.db.query.emailOutbox.findMany()).every((m) => m.body === null && m.sentAt !== null)).toBe(true);
  });

  it('verifies an email address from the link', async () => {
    const email = await userWithPassword();
    const s = await signIn(email);
    mails.length = 0;
    await h.post({ query: 'mutation { sendEmailVerification { ok } }' }, { cookie: s.cookie!, 'x-tollgate-csrf': s.csrf! });
    const r = await h.gql(`mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) { __typename ... on MutationVerifyEmailSuccess { data { emailVerified } } } }`, { i: { token: linkToken(mails[0]!) } }, null);
    expect(r.data!.verifyEmail).toEqual({ __typename: 'MutationVerifyEmailSuccess', data: { emailVerified: true } });
  });
});

describe('members', () => {
  it('invites by email; the invitee sets a password, joins with the role, and can sign in', async () => {
    const orgId = await createOrg(h);
    mails.length = 0;
    const email = `${unique('invitee')}@example.com`;
    const invited = await mutate(h, 'inviteMember', 'InviteMemberInput', 'id email role expiresAt', { orgId, email, role: 'developer' });
    expect(invited.data).toMatchObject({ email, role: 'developer' });
    expect(new Date(invited.data.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    const accept = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { __typename ... on MutationAcceptInvitationSuccess { data { role orgId user { email } } } } }`;
    const token = linkToken(mails[0]!);
    expect((await h.gql(accept, { i: { token } }, null)).data!.acceptInvitation.__typename).toBe('ValidationError'); // no password yet
    expect((await h.gql(accept, { i: { token, password: PASSWORD } }, null)).data!.acceptInvitation).toEqual({
      __typename: 'MutationAcceptInvitationSuccess', data: { role: 'developer', orgId, user: { email } },
    });
    expect((await h.gql(accept, { i: { token, password: PASSWORD } }, null)).data!.acceptInvitation.__typename).toBe('InvalidLinkError');
    const s = await signIn(email);
    const orgs = await h.post({ query: '{ orgs { edges { node { id viewerRole } } } }' }, { cookie: s.cookie!, 'x-tollgate-csrf': s.csrf! });
    expect(await orgs.json()).toEqual({ data: { orgs: { edges: [{ node: { id: orgId, viewerRole: 'developer' } }] } } });
  });

  it('keeps an owner: the last owner can be neither demoted nor removed; an admin cannot touch owners', async () => {
    const orgId = await createOrg(h);
    const owner = await memberWithToken(h, orgId, 'owner');
    const admin = await memberWithToken(h, orgId, 'admin');
    const asOwner = h.as(owner.token);
    const asAdmin = h.as(admin.token);
    expect((await mutate(asOwner, 'changeMemberRole', 'ChangeMemberRoleInput', 'role', { id: owner.memberId, role: 'admin' })).typename).toBe('LastOwnerError');
    expect((await mutate(asOwner, 'removeMember', 'MemberIdInput', 'id', { id: owner.memberId })).typename).toBe('LastOwnerError');
    expect((await mutate(asAdmin, 'changeMemberRole', 'ChangeMemberRoleInput', 'role', { id: owner.memberId, role: 'viewer' })).typename).toBe('ForbiddenError');
    expect((await mutate(asAdmin, 'changeMemberRole', 'ChangeMemberRoleInput', 'role', { id: admin.memberId, role: 'owner' })).typename).toBe('ForbiddenError');
    expect((await mutate(asOwner, 'changeMemberRole', 'ChangeMemberRoleInput', 'role', { id: admin.memberId, role: 'owner' })).data).toEqual({ role: 'owner' });
    expect((await mutate(asOwner, 'removeMember', 'MemberIdInput', 'id', { id: owner.memberId })).data).toEqual({ id: owner.memberId });
    // The removed owner's token stops working in the org at once.
    expect((await h.gql(`query($id: ID!) { org(id: $id) { id } }`, { id: orgId }, owner.token)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('management tokens', () => {
  it('are created scoped, shown once, listed by prefix and last 4 with their last use, and revoked', async () => {
    const orgId = await createOrg(h);
    const dev = await memberWithToken(h, orgId, 'developer');
    const asDev = h.as(dev.token);
    expect((await mutate(asDev, 'createManagementToken', 'CreateManagementTokenInput', 'secret', { name: 'ci', orgId, role: 'admin' })).typename).toBe('ForbiddenError');
    expect((await mutate(asDev, 'createManagementToken', 'CreateManagementTokenInput', 'secret', { name: 'ci' })).typename).toBe('ForbiddenError');
    const created = await mutate(asDev, 'createManagementToken', 'CreateManagementTokenInput', 'secret token { id prefix last4 orgId role lastUsedAt }', {
      name: 'ci', orgId, role: 'viewer', expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const secret = created.data.secret as string;
    expect(created.data.token).toMatchObject({ prefix: secret.slice(0, 8), last4: secret.slice(-4), orgId, role: 'viewer', lastUsedAt: null });
    expect((await h.gql('{ viewer { email } }', {}, secret)).data).toBeTruthy();
    const listed = await h.gql(`{ managementTokens { edges { node { id prefix last4 lastUsedAt } } } }`, {}, dev.token);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const node = (listed.data!.managementTokens.edges as { node: { id: string; lastUsedAt: string | null } }[]).find((e) => e.node.id === created.data.token.id)!.node;
    expect(node.lastUsedAt).not.toBeNull();
    expect((await mutate(asDev, 'revokeManagementToken', 'RevokeManagementTokenInput', 'revokedAt', { id: created.data.token.id })).data.revokedAt).not.toBeNull();
    const refused = await h.post({ query: '{ viewer { email } }' }, { authorization: `Bearer ${secret}` });
    expect(refused.status).toBe(401);
  });
});
