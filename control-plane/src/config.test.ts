import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

describe('SMTP settings', () => {
  it('reads smtp:// (STARTTLS when offered, port 587) with a percent-encoded password', () => {
    const config = readConfig({ TOLLGATE_SMTP_URL: 'smtp://mailer%40example.com:p%40ss%3Aword@mail.example.com', TOLLGATE_EMAIL_FROM: ' Tollgate <noreply@example.com> ' });
    expect(config.smtp).toEqual({ host: 'mail.example.com', port: 587, secure: false, auth: { user: 'mailer@example.com', pass: 'p@ss:word' }, from: 'Tollgate <noreply@example.com>' });
  });

  it('reads smtps:// as implicit TLS on 465, and a server without a login', () => {
    expect(readConfig({ TOLLGATE_SMTP_URL: 'smtps://mail.example.com', TOLLGATE_EMAIL_FROM: 'a@example.com' }).smtp).toEqual({
      host: 'mail.example.com', port: 465, secure: true, auth: null, from: 'a@example.com',
    });
    expect(readConfig({ TOLLGATE_SMTP_URL: 'smtp://u:p@[::1]:2525', TOLLGATE_EMAIL_FROM: 'a@example.com' }).smtp).toMatchObject({ host: '::1', port: 2525 });
  });

  it('is off without TOLLGATE_SMTP_URL', () => {
    expect(readConfig({}).smtp).toBeNull();
  });

  it.each([
    [{ TOLLGATE_SMTP_URL: 'http://u:secret-CANARY@mail.example.com', TOLLGATE_EMAIL_FROM: 'a@example.com' }, 'TOLLGATE_SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (implicit TLS) and name a host'],
    [{ TOLLGATE_SMTP_URL: 'smtp://u:secret-CANARY@mail.example.com' }, 'TOLLGATE_EMAIL_FROM (the sender, e.g. "Tollgate <noreply@example.com>") is required with TOLLGATE_SMTP_URL'],
    [{ TOLLGATE_SMTP_URL: 'not a url secret-CANARY', TOLLGATE_EMAIL_FROM: 'a@example.com' }, 'TOLLGATE_SMTP_URL must be a URL like smtp://user:password@host:587 or smtps://user:password@host:465'],
  ])('refuses %j without repeating the password', (env, message) => {
    expect(() => readConfig(env)).toThrow(new ConfigError(message));
  });
});

describe('TOLLGATE_SETTLED_MARKER_HOURS', () => {
  it('is 24 hours unless set, in whole hours up to a year, as the data plane reads it', () => {
    expect(readConfig({}).settledMarkerSeconds).toBe(86_400);
    expect(readConfig({ TOLLGATE_SETTLED_MARKER_HOURS: '2' }).settledMarkerSeconds).toBe(7_200);
    expect(readConfig({ TOLLGATE_SETTLED_MARKER_HOURS: '8760' }).settledMarkerSeconds).toBe(31_536_000);
  });

  it.each(['0', '2.5', '8761', 'week'])('refuses %j', (hours) => {
    expect(() => readConfig({ TOLLGATE_SETTLED_MARKER_HOURS: hours })).toThrow(new ConfigError(`TOLLGATE_SETTLED_MARKER_HOURS must be an integer from 1 to 8760, got "${hours}"`));
  });
});
