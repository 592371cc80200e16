import { generateSecret } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import { managementTokens, users } from '../db/schema/index.ts';
import { ValidationError } from '../errors.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface CreatedAdmin {
  userId: string;
  email: string;
  /** The management token: shown once to whoever ran `tollgate admin create`, never stored. */
  token: string;
}

/** Creates a platform admin (or promotes the user with this email) and issues a new token. */
export async function createPlatformAdmin(db: Db, emailInput: string): Promise<CreatedAdmin> {
  const email = emailInput.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new ValidationError(`"${emailInput}" is not an email address`, 'email');
  const generated = generateSecret('management_token');
  const user = await db.transaction(async (tx) => {
    const [upserted] = await tx
      .insert(users)
      .values({ email, isPlatformAdmin: true })
      .onConflictDoUpdate({ target: users.email, set: { isPlatformAdmin: true } })
      .returning();
    await tx.insert(managementTokens).values({
      userId: upserted!.id,
      tokenHash: generated.hash,
      prefix: generated.prefix,
      last4: generated.last4,
    });
    return upserted!;
  });
  return { userId: user.id, email: user.email, token: generated.secret };
}
