import type { Db } from '../db/connect.ts';
import type { ServiceContext } from './context.ts';
import { enqueuePublications, type PublicationRequest } from './outbox.ts';

/**
 * One change and its publication as one unit (issue 8, "no committed change is ever lost"): `work`
 * writes through `tx` and names what the data plane must see; the outbox rows commit with the
 * change, and are published right after the commit (and retried until they are).
 */
export async function commitChange<T>(
  ctx: ServiceContext,
  work: (tx: Db, publish: (request: PublicationRequest) => void) => Promise<T>,
): Promise<T> {
  const requests: PublicationRequest[] = [];
  const result = await ctx.db.transaction(async (tx) => {
    const value = await work(tx, (request) => void requests.push(request));
    await enqueuePublications(tx, requests);
    return value;
  });
  if (requests.length > 0) await ctx.outbox.deliver();
  return result;
}
