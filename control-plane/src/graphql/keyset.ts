import { decodeBase64, decodeCursorChunk } from '@pothos/core';

type Paging = { after?: string | null; before?: string | null };

/**
 * For connections ordered newest first by `created_at` (then a tie-breaker): the bound on
 * `created_at` that a page's cursor implies. Pothos pages with `created_at < X OR (created_at = X
 * AND tie < Y)`, which Postgres cannot use as an index range, so each page scanned the org's rows
 * from the newest down to the cursor: 18.5 ms for a page 180,000 rows deep (quadratic to read a
 * whole history). With `created_at <= X` beside it the index range starts at the cursor: 0.48 ms.
 * A cursor this cannot read adds no bound (Pothos refuses it with its own error).
 */
export function createdAtBound(args: Paging): { createdAt?: { lte?: Date; gte?: Date } } {
  const after = cursorCreatedAt(args.after);
  const before = cursorCreatedAt(args.before);
  if (after === null && before === null) return {};
  return { createdAt: { ...(after === null ? {} : { lte: after }), ...(before === null ? {} : { gte: before }) } };
}

/** The first ordering value of a Pothos drizzle cursor (`DC:` + a tagged tuple or value), when a date. */
function cursorCreatedAt(cursor: string | null | undefined): Date | null {
  if (!cursor) return null;
  try {
    const decoded = decodeBase64(cursor);
    if (!decoded.startsWith('DC:')) return null;
    const value: unknown = decodeCursorChunk(decoded.slice(3));
    const first = Array.isArray(value) ? (value[0] as unknown) : value;
    return first instanceof Date && !Number.isNaN(first.getTime()) ? first : null;
  } catch {
    return null;
  }
}
