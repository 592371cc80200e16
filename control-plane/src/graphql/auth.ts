import { bearerToken, hashSecret, isWellFormedSecret } from '@tollgate/shared';
import type { Db } from '../db/connect.ts';
import type { User } from '../db/schema/index.ts';

/**
 * The user behind `Authorization: Bearer tgm_...`, or null. Malformed tokens (wrong shape or
 * checksum) are refused without a database lookup; the token itself is never logged or echoed.
 */
export async function authenticate(db: Db, authorization: string | null): Promise<User | null> {
  const token = bearerToken(authorization ?? undefined);
  if (!token || !isWellFormedSecret(token, 'management_token')) return null;
  const row = await db.query.managementTokens.findFirst({
    where: { tokenHash: hashSecret(token), revokedAt: { isNull: true } },
    with: { user: true },
  });
  return row?.user ?? null;
}
