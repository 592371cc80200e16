import { silentLogger, type Logger } from '@tollgate/shared';
import { and, asc, eq, isNull, lt } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { emailOutbox } from '../db/schema/index.ts';

/**
 * Emails (password resets, verifications, invitations) go through an outbox: queued in the same
 * transaction as the token they carry, delivered after commit. There is no SMTP client yet: the
 * transport logs each message (recipient, subject and link) at warn level, which is how an embedded
 * operator reads them; a deployment that needs real mail plugs a transport in (`EmailTransport`).
 * The body is cleared once delivered: it holds a one-time link.
 */
export interface EmailMessageInput {
  to: string;
  subject: string;
  body: string;
}

export interface EmailTransport {
  send(message: EmailMessageInput): Promise<void>;
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

const MAX_ATTEMPTS = 10;

export class EmailOutbox {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly transport: EmailTransport,
    private readonly logger: Logger = silentLogger,
  ) {}

  deliver(): Promise<void> {
    this.chain = this.chain.then(() => this.deliverDue()).catch((error: unknown) => this.logger.error('email delivery failed', { error }));
    return this.chain;
  }

  private async deliverDue(): Promise<void> {
    const due = await this.db
      .select()
      .from(emailOutbox)
      .where(and(isNull(emailOutbox.sentAt), lt(emailOutbox.attempts, MAX_ATTEMPTS)))
      .orderBy(asc(emailOutbox.id))
      .limit(50);
    for (const message of due) {
      try {
        await this.transport.send({ to: message.to, subject: message.subject, body: message.body ?? '' });
        await this.db.update(emailOutbox).set({ sentAt: new Date(), body: null }).where(eq(emailOutbox.id, message.id));
      } catch (error) {
        await this.db
          .update(emailOutbox)
          .set({ attempts: message.attempts + 1, lastError: error instanceof Error ? error.message.slice(0, 500) : 'unknown' })
          .where(eq(emailOutbox.id, message.id));
      }
    }
  }
}
