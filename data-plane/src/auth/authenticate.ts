import { bearerToken, GatewayError, hashSecret, isWellFormedSecret, type KeyRecord } from '@tollgate/shared';
import type { KeyCache } from './key-cache.ts';

const INVALID = 'Invalid API key. Provide a Tollgate key as "Authorization: Bearer tg_...".';

/**
 * Resolves the caller's key record or throws 401. A malformed key or a bad checksum is refused
 * before any lookup. Messages never repeat the key.
 */
export async function authenticate(authorization: string, keys: KeyCache, now: number): Promise<KeyRecord> {
  const secret = bearerToken(authorization);
  if (!secret || !isWellFormedSecret(secret, 'api_key')) throw new GatewayError('invalid_api_key', INVALID);
  const hash = hashSecret(secret);
  const record = keys.get(hash) ?? (await keys.load(hash));
  if (!record) throw new GatewayError('invalid_api_key', INVALID);
  if (record.status === 'revoked') throw new GatewayError('invalid_api_key', 'This API key has been revoked.');
  if (record.status === 'disabled') throw new GatewayError('key_disabled', 'This API key is disabled.');
  if (record.expiresAt !== null && record.expiresAt <= now) throw new GatewayError('key_expired', 'This API key has expired.');
  return record;
}
