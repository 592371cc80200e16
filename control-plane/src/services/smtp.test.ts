import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpServer, type FakeSmtp } from '../../../test/fakes/smtp.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { SmtpSettings } from '../config.ts';
import { emailOutbox, users } from '../db/schema/index.ts';
import { captureLogger, createOrg, generousRateLimits, unique } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { EmailOutbox, queueEmail } from './email.ts';
import { smtpTransport } from './smtp.ts';

const PASSWORD = 'smtp-pa55word-CANARY';
const FROM = 'Tollgate <noreply@tollgate.test>';

/**
 * Email delivery through SMTP, against a fake server on 127.0.0.1 that speaks the protocol: what a
 * person receives (recipient, subject, the link that works), a retry with backoff after a 4xx, a
 * 5xx recorded once and never retried, attempts that run out, and a password that never shows.
 */
describe('SMTP delivery', () => {
  let smtp: FakeSmtp;
  let h: Harness;
  const logs: string[] = [];
  const settings = (pass = PASSWORD): SmtpSettings => ({ host: '127.0.0.1', port: smtp.port, secure: false, auth: { user: 'mailer', pass }, from: FROM });

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { mailer: PASSWORD } });
    h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits(), smtp: settings(), logger: captureLogger(logs) });
  });
  afterAll(async () => {
    await h?.cleanup();
    await smtp?.close();
  });
  beforeEach(async () => {
    await h.database.db.delete(emailOutbox);
    smtp.messages.length = 0;
  });

  /** An outbox over the harness's database with a clock the test moves. */
  function outbox(options: { pass?: string; maxAttempts?: number } = {}) {
    const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
    const box = new EmailOutbox(h.database.db, smtpTransport(settings(options.pass)), captureLogger(logs), {
      retryBaseMs: 60_000,
      maxAttempts: options.maxAttempts ?? 10,
      clock: () => clock.now,
    });
    return { box, clock };
  }
  const rows = () => h.database.db.select().from(emailOutbox);

  it('sends a password reset to the account\'s address, and the link in it resets the password', async () => {
    const email = `${unique('reset')}@example.com`;
    await h.database.db.insert(users).values({ email, passwordHash: await hashPassword('the old password 123') });
    const asked = await h.gql(`mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { __typename } }`, { i: { email } }, null);
    expect(asked.data).toEqual({ requestPasswordReset: { __typename: 'MutationRequestPasswordResetSuccess' } });
    await h.controlPlane.email.deliver();

    expect(smtp.messages.map((m) => ({ from: m.from, to: m.to, user: m.user, header: m.headers.from, headerTo: m.headers.to, subject: m.subject }))).toEqual([
      { from: 'noreply@tollgate.test', to: [email], user: 'mailer', header: FROM, headerTo: email, subject: 'Reset your Tollgate password' },
    ]);
    const text = smtp.messages[0]!.text;
    const link = /^Set a new password within an hour: (http:\/\/127\.0\.0\.1:4000\/reset-password#token=([A-Za-z0-9_-]{43}))$/m.exec(text);
    expect(link, text).not.toBeNull();
    const reset = await h.gql(
      `mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { __typename ... on MutationResetPasswordSuccess { data { email } } } }`,
      { i: { token: link![2], password: 'a brand new password' } },
      null,
    );
    expect(reset.data).toEqual({ resetPassword: { __typename: 'MutationResetPasswordSuccess', data: { email } } });
    // Delivered: the one-time link is gone from the database.
    expect((await rows()).map((r) => [r.to, r.attempts, r.body, r.sentAt !== null, r.failedAt])).toEqual([[email, 0, null, true, null]]);
  });

  it('sends an invitation with its accept link', async () => {
    const orgName = unique('Acme');
    const orgId = await createOrg(h, orgName);
    const invitee = `${unique('invitee')}@example.com`;
    const r = await mutate(h, 'inviteMember', 'InviteMemberInput', 'email', { orgId, email: invitee, role: 'developer' });
    expect(r.data).toEqual({ email: invitee });
    expect(smtp.messages.map((m) => [m.to, m.subject])).toEqual([[[invitee], `You are invited to ${orgName} on Tollgate`]]);
    expect(smtp.messages[0]!.text).toMatch(new RegExp(`^Join ${orgName} as developer within 7 days: http://127\\.0\\.0\\.1:4000/accept-invitation#token=[A-Za-z0-9_-]{43}$`, 'm'));
  });

  it('retries a 4xx after the backoff and delivers then', async () => {
    const { box, clock } = outbox();
    await queueEmail(h.database.db, { to: 'busy@example.com', subject: 'Try me twice', body: 'link: http://127.0.0.1:4000/x#token=abc' });
    smtp.failNext('RCPT', 451, '4.3.0 Mailbox busy, try later');
    const start = clock.now;
    await box.deliver();
    expect(smtp.messages).toEqual([]);
    expect((await rows()).map((r) => [r.attempts, r.lastError, r.nextAttemptAt.getTime() - start, r.sentAt, r.failedAt, r.body])).toEqual([
      [1, 'SMTP 451: 451 4.3.0 Mailbox busy, try later', 60_000, null, null, 'link: http://127.0.0.1:4000/x#token=abc'],
    ]);
    // Not due yet: the server is not even contacted.
    const sessions = smtp.sessions();
    clock.now = start + 59_999;
    await box.deliver();
    expect(smtp.sessions()).toBe(sessions);
    clock.now = start + 60_000;
    await box.deliver();
    expect(smtp.messages.map((m) => [m.to, m.subject, m.text])).toEqual([[['busy@example.com'], 'Try me twice', 'link: http://127.0.0.1:4000/x#token=abc']]);
    expect((await rows()).map((r) => [r.attempts, r.sentAt?.getTime(), r.body])).toEqual([[1, start + 60_000, null]]);
  });

  it('records a 5xx once and never tries that message again', async () => {
    const { box, clock } = outbox();
    await queueEmail(h.database.db, { to: 'nobody@example.com', subject: 'Bounce', body: 'one-time link' });
    smtp.failNext('RCPT', 550, '5.1.1 <nobody@example.com>: Recipient address rejected');
    await box.deliver();
    expect((await rows()).map((r) => [r.attempts, r.lastError, r.failedAt?.getTime(), r.sentAt, r.body])).toEqual([
      [1, 'SMTP 550: 550 5.1.1 <nobody@example.com>: Recipient address rejected', clock.now, null, null],
    ]);
    const sessions = smtp.sessions();
    clock.now += 365 * 86_400_000;
    await box.deliver();
    expect([smtp.sessions() - sessions, smtp.messages]).toEqual([0, []]);
  });

  it('backs off exponentially and gives up after the last attempt', async () => {
    const { box, clock } = outbox({ maxAttempts: 3 });
    await queueEmail(h.database.db, { to: 'flaky@example.com', subject: 'Never', body: 'x' });
    const start = clock.now;
    const waits: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      smtp.failNext('MAIL', 421, '4.7.0 Too many connections');
      await box.deliver();
      const [row] = await rows();
      waits.push(row!.failedAt ? -1 : row!.nextAttemptAt.getTime() - clock.now);
      clock.now = row!.nextAttemptAt.getTime();
    }
    // 1 min, 2 min, then given up (-1): the third failure is the last attempt.
    expect(waits).toEqual([60_000, 120_000, -1]);
    const [row] = await rows();
    expect([row!.attempts, row!.lastError, row!.failedAt?.getTime(), row!.body]).toEqual([3, 'SMTP 421: 421 4.7.0 Too many connections', start + 180_000, null]);
    const sessions = smtp.sessions();
    clock.now += 86_400_000;
    await box.deliver();
    expect(smtp.sessions()).toBe(sessions);
  });

  it('retries a refused login (the operator can fix it) and never writes the password anywhere', async () => {
    const wrong = 'wrong-pa55word-CANARY';
    const { box } = outbox({ pass: wrong });
    await queueEmail(h.database.db, { to: 'someone@example.com', subject: 'Auth', body: 'x' });
    await box.deliver();
    const [row] = await rows();
    expect([row!.attempts, row!.failedAt, row!.lastError]).toEqual([1, null, 'SMTP 535: 535 5.7.8 Authentication credentials invalid']);
    expect(smtp.commands.filter((c) => c.startsWith('AUTH'))).toContain('AUTH PLAIN');
    expect(logs.join('\n')).not.toContain(wrong);
    expect(logs.join('\n')).not.toContain(PASSWORD);
    expect(logs.some((l) => l.startsWith('email delivery failed; retrying'))).toBe(true);
  });
});
