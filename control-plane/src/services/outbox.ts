import { silentLogger, type Logger } from '@tollgate/shared';
import { asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { publications, type Publication } from '../db/schema/index.ts';
import type { Publisher } from './publisher.ts';

/** Something the data plane must see, named by ids: the publisher reads the rows as they are then. */
export type PublicationRequest =
  | { kind: 'key'; keyId: string }
  | { kind: 'key_removed'; hash: string }
  | { kind: 'org_keys'; orgId: string }
  | { kind: 'routes' }
  | { kind: 'byok'; orgId: string; provider: string }
  | { kind: 'balance'; orgId: string }
  | { kind: 'credit'; entryId: string };

const BATCH = 200;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
const POLL_MS = 1000;

/** Writes publication rows; call inside the transaction of the change they announce. */
export async function enqueuePublications(tx: Db, requests: readonly PublicationRequest[]): Promise<void> {
  if (requests.length === 0) return;
  const unique = new Map(requests.map((r) => [JSON.stringify(r), r]));
  await tx.insert(publications).values([...unique.values()].map(({ kind, ...payload }) => ({ kind, payload: payload as Record<string, string> })));
}

/**
 * Publishes the outbox after commit, and again on a timer for rows a failure left behind (with
 * exponential backoff), so a change that committed is never lost to a state store that was down,
 * or to a crash between commit and publication (the next start picks its rows up). Publishing is
 * idempotent (it writes current state), so two control planes delivering the same row is harmless.
 * Rows are read and deleted outside any transaction: PGlite has one connection, and the publisher
 * runs its own read transaction to build the route table.
 */
export class PublicationOutbox {
  private chain: Promise<void> = Promise.resolve();
  private pending = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly publisher: Publisher,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Publishes every due row; resolves when done (failures stay queued for a retry and are logged). */
  deliver(): Promise<void> {
    // One delivery at a time; callers that arrive during one share the next.
    if (this.pending) return this.chain;
    this.pending = true;
    this.chain = this.chain.then(async () => {
      this.pending = false;
      await this.deliverDue();
    });
    return this.chain;
  }

  start(): void {
    this.closed = false;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.deliver().finally(() => !this.closed && tick());
      }, POLL_MS);
      this.timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  /** Rows not yet published (for tests and health). */
  async backlog(): Promise<number> {
    const [row] = await this.db.select({ n: sql<string>`count(*)::text` }).from(publications);
    return Number(row?.n ?? 0);
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      let rows: Publication[];
      try {
        rows = await this.db.select().from(publications).where(lte(publications.nextAttemptAt, new Date())).orderBy(asc(publications.id)).limit(BATCH);
      } catch (error) {
        this.logger.warn('reading the publication outbox failed; retrying', { error });
        return;
      }
      if (rows.length === 0) return;
      // Route tables are whole: one publication covers every routes row in the batch.
      const routes = rows.filter((r) => r.kind === 'routes');
      const others = rows.filter((r) => r.kind !== 'routes');
      if (routes.length > 0) await this.attempt(routes, () => this.publisher.publishRoutes());
      for (const row of others) await this.attempt([row], () => this.publishOne(row));
      if (rows.length < BATCH) return;
    }
  }

  private async attempt(rows: Publication[], publish: () => Promise<void>): Promise<void> {
    const ids = rows.map((r) => r.id);
    try {
      await publish();
      await this.db.delete(publications).where(inArray(publications.id, ids));
    } catch (error) {
      const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts, 16));
      this.logger.error('publishing to the state store failed; retrying', { kind: rows[0]!.kind, attempts, error });
      try {
        await this.db
          .update(publications)
          .set({ attempts, lastError: error instanceof Error ? error.message.slice(0, 500) : 'unknown error', nextAttemptAt: new Date(Date.now() + delay) })
          .where(inArray(publications.id, ids));
      } catch {
        // The row stays due and is retried at the next tick.
      }
    }
  }

  private publishOne(row: Publication): Promise<void> {
    const p = row.payload;
    switch (row.kind) {
      case 'key':
        return this.publisher.publishKey(p.keyId!);
      case 'key_removed':
        return this.publisher.removeKeyRecord(p.hash!);
      case 'org_keys':
        return this.publisher.publishOrgKeys(p.orgId!);
      case 'byok':
        return this.publisher.publishByok(p.orgId!, p.provider!);
      case 'balance':
        return this.publisher.seedOrg(p.orgId!);
      case 'credit':
        return this.publisher.applyCreditById(p.entryId!);
      default:
        return this.publisher.publishRoutes();
    }
  }
}

/** Deletes one row by id (tests). */
export async function deletePublication(db: Db, id: number): Promise<void> {
  await db.delete(publications).where(eq(publications.id, id));
}
