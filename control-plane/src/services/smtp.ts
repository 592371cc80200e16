import { createTransport } from 'nodemailer';
import type { SmtpSettings } from '../config.ts';
import { EmailDeliveryError, type EmailTransport } from './email.ts';

interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * Sends the outbox's messages through an SMTP server with nodemailer: STARTTLS when a plain
 * server offers it, implicit TLS for smtps, certificates verified. One connection per message:
 * these are a few password resets and invitations, not bulk mail. Timeouts are short because the
 * outbox retries. A 5xx reply (a refused recipient or message) is permanent; everything else (4xx,
 * connection failures, timeouts, a refused login the operator can fix) is retried.
 */
export function smtpTransport(settings: SmtpSettings): EmailTransport {
  const transporter = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // Messages are plain text we wrote: nothing may make nodemailer read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  const secret = settings.auth?.pass ?? '';
  return {
    async send(message) {
      try {
        await transporter.sendMail({ from: settings.from, to: message.to, subject: message.subject, text: message.body });
      } catch (error) {
        const failure = (error ?? {}) as SmtpFailure;
        const reply = failure.response ?? failure.message ?? 'unknown error';
        const code = failure.responseCode ?? failure.code ?? 'error';
        // Server replies never hold our password, but a redaction costs nothing and the text is stored.
        const text = `SMTP ${code}: ${secret ? reply.split(secret).join('****') : reply}`;
        const permanent = failure.code !== 'EAUTH' && failure.responseCode !== undefined && failure.responseCode >= 500 && failure.responseCode < 600;
        throw new EmailDeliveryError(text, permanent);
      }
    },
    close() {
      transporter.close();
    },
  };
}
