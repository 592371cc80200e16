import { silentLogger, type Logger } from '@tollgate/shared';
import { and, asc, eq, isNull, lte } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { emailOutbox } from '../db/schema/index.ts';

/**
 * Emails (password resets, verifications, invitations) go through an outbox: queued in the same
 * transaction as the token they carry, delivered after commit by a transport: SMTP when
 * `TOLLGATE_SMTP_URL` is set (services/smtp.ts), else the log (recipient, subject and link at warn
 * level), which is how an embedded operator reads them. The body holds a one-time link, so it is
 * cleared once the message is delivered or given up on.
 */
export interface EmailMessageInput {
  to: string;
  subject: string;
  body: string;
}

export interface EmailTransport {
  /** Throws on failure; an `EmailDeliveryError` with `permanent` is never retried. */
  send(message: EmailMessageInput): Promise<void>;
  close?(): void;
}

/** A failed delivery; `permanent` when the server refused the message for good (SMTP 5xx). */
export class EmailDeliveryError extends Error {
  override name = 'EmailDeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export function logTransport(logger: Logger): EmailTransport {
  return {
    async send(message) {
      // Deliberately logged whole: without SMTP the log is the mailbox. The link is one-time and expires.
      logger.warn(`email to ${message.to}: ${message.subject}\n${message.body}`, { emailTo: message.to });
    },
  };
}

export async function queueEmail(tx: Db, message: EmailMessageInput): Promise<void> {
  await tx.insert(emailOutbox).values(message);
}

export interface EmailOutboxOptions {
  /** Attempts before a message is given up on (temporary failures each count one). */
  maxAttempts?: number;
  /** The wait after the first temporary failure; it doubles with each one, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often due messages are looked for once `start()`ed. */
  pollMs?: number;
  /** Epoch milliseconds now (tests move it). */
  clock?: () => number;
}

const BATCH = 50;

/**
 * Delivers due messages one at a time: after commit (`deliver()`), and on a timer for retries.
 * A temporary failure (a 4xx, a refused connection, a timeout) is retried with exponential
 * backoff until `maxAttempts`; a permanent one (5xx) is recorded once and never retried, so a bad
 * address cannot loop. Rows are never deleted: `sent_at`/`failed_at` and `last_error` stay for the
 * operator, the body goes.
 */
export class EmailOutbox {
  private chain: Promise<void> = Promise.resolve();
  private pending = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly pollMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly db: Db,
    private readonly transport: EmailTransport,
    private readonly logger: Logger = silentLogger,
    options: EmailOutboxOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.retryBaseMs = options.retryBaseMs ?? 30_000;
    this.retryMaxMs = options.retryMaxMs ?? 3_600_000;
    this.pollMs = options.pollMs ?? 5_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Sends every due message; resolves when done (failures are recorded, never thrown). */
  deliver(): Promise<void> {
    // One delivery at a time; callers that arrive during one share the next.
    if (this.pending) return this.chain;
    this.pending = true;
    this.chain = this.chain
      .then(async () => {
        this.pending = false;
        await this.deliverDue();
      })
      .catch((error: unknown) => this.logger.error('email delivery failed', { error }));
    return this.chain;
  }

  start(): void {
    this.closed = false;
    const tick = (): void => {
      this.timer = setTimeout(() => void this.deliver().finally(() => !this.closed && tick()), this.pollMs);
      this.timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    this.transport.close?.();
  }

  private async deliverDue(): Promise<void> {
    const due = await this.db
      .select()
      .from(emailOutbox)
      .where(and(isNull(emailOutbox.sentAt), isNull(emailOutbox.failedAt), lte(emailOutbox.nextAttemptAt, new Date(this.clock()))))
      .orderBy(asc(emailOutbox.id))
      .limit(BATCH);
    for (const message of due) {
      try {
        await this.transport.send({ to: message.to, subject: message.subject, body: message.body ?? '' });
        await this.db.update(emailOutbox).set({ sentAt: new Date(this.clock()), body: null }).where(eq(emailOutbox.id, message.id));
      } catch (error) {
        await this.failed(message.id, message.attempts + 1, error);
      }
    }
  }

  private async failed(id: number, attempts: number, error: unknown): Promise<void> {
    // Transport errors carry the server's reply, never the credentials (smtp.ts builds them so).
    const lastError = error instanceof Error ? error.message.slice(0, 500) : 'unknown error';
    const permanent = error instanceof EmailDeliveryError && error.permanent;
    const now = this.clock();
    if (permanent || attempts >= this.maxAttempts) {
      this.logger.error('email given up', { emailId: id, attempts, permanent, error: lastError });
      await this.db.update(emailOutbox).set({ attempts, lastError, failedAt: new Date(now), body: null }).where(eq(emailOutbox.id, id));
      return;
    }
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
    this.logger.warn('email delivery failed; retrying', { emailId: id, attempts, retryInMs: delay, error: lastError });
    await this.db.update(emailOutbox).set({ attempts, lastError, nextAttemptAt: new Date(now + delay) }).where(eq(emailOutbox.id, id));
  }
}
