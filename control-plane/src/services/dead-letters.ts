import { and, eq, isNull } from 'drizzle-orm';
import { usageDeadLetters, type UsageDeadLetter } from '../db/schema/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { id as idInput, requiredText } from './validate.ts';

/**
 * Usage events the database refused, kept whole by the consumer. Resolving one records that an
 * operator dealt with it and how; it moves no money. Until then reconcile counts a debited one as
 * debited in the store and missing from the ledger; once resolved it counts no more, so the
 * operator first books what should be booked (creditOrg with the negative cost, say) or decides to
 * forgive it, then resolves, then runs `tollgate reconcile` (with --repair if the store is to follow).
 */
export async function resolveDeadLetter(ctx: Pick<ServiceContext, 'db'>, input: { id: string; note: string }, resolvedBy: string | null): Promise<UsageDeadLetter> {
  const id = idInput(input.id, 'dead letter');
  const note = requiredText(input.note, 'note', 1000);
  const [row] = await ctx.db
    .update(usageDeadLetters)
    .set({ resolvedAt: new Date(), resolvedBy, resolutionNote: note })
    .where(and(eq(usageDeadLetters.id, id), isNull(usageDeadLetters.resolvedAt)))
    .returning();
  if (row) return row;
  const existing = await ctx.db.query.usageDeadLetters.findFirst({ where: { id } });
  if (!existing) throw new NotFoundError('no dead letter with this id');
  throw new ConflictError(`this dead letter was resolved at ${existing.resolvedAt!.toISOString()}`);
}
