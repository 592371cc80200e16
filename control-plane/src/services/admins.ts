import { generateSecret } from '@tollgate/shared';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { managementTokens, users } from '../db/schema/index.ts';
import { ForbiddenError } from '../errors.ts';
import { emailInput } from './accounts.ts';

export interface CreatedAdmin {
  userId: string;
  email: string;
  /** The management token: shown once to whoever ran `tollgate admin create`, never stored. */
  token: string;
}

export async function operatorCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)::text` }).from(users).where(eq(users.isPlatformAdmin, true));
  return Number(row?.n ?? 0);
}

/**
 * Bootstraps the first platform operator (or, with `authorizedBy`, another one on behalf of an
 * existing operator) and issues a platform token. Refused once an operator exists and nobody
 * authorized it: whoever can reach the database or the control socket can bootstrap an empty
 * install, but cannot mint admins silently afterwards. The check and the insert share a lock
 * (an advisory transaction lock), so two concurrent bootstraps cannot both pass.
 */
export async function createPlatformAdmin(db: Db, emailText: string, options: { authorizedBy?: string | null } = {}): Promise<CreatedAdmin> {
  const email = emailInput(emailText);
  const generated = generateSecret('management_token');
  const user = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(8437001)`);
    if (!options.authorizedBy && (await operatorCount(tx)) > 0) {
      throw new ForbiddenError('a platform operator already exists: run this with --token <an operator\'s management token>, or use the createManagementToken / addMember mutations');
    }
    const [upserted] = await tx
      .insert(users)
      .values({ email, isPlatformAdmin: true })
      .onConflictDoUpdate({ target: users.email, set: { isPlatformAdmin: true } })
      .returning();
    await tx.insert(managementTokens).values({
      userId: upserted!.id,
      name: 'created by tollgate admin create',
      tokenHash: generated.hash,
      prefix: generated.prefix,
      last4: generated.last4,
    });
    return upserted!;
  });
  return { userId: user.id, email: user.email, token: generated.secret };
}
