import { gcmOpen, gcmSeal, SecretBoxError } from './gcm.ts';

/**
 * AES-256-GCM sealing of small secrets (provider API keys) under the master key, bound to the
 * record that owns them through associated data, so a ciphertext copied onto another record fails
 * to open. Format: `v1.<iv>.<ciphertext><tag>` in base64url; the version leaves room for envelope
 * keys and master-key rotation.
 */
const VERSION = 'v1';

export { SecretBoxError };

export function seal(masterKey: Buffer, plaintext: string, associatedData: string): string {
  assertKey(masterKey);
  return `${VERSION}.${gcmSeal(masterKey, Buffer.from(plaintext, 'utf8'), associatedData)}`;
}

export function open(masterKey: Buffer, sealed: string, associatedData: string): string {
  assertKey(masterKey);
  const [version, ivText, bodyText] = sealed.split('.');
  if (version !== VERSION || !ivText || !bodyText) throw new SecretBoxError('unsupported sealed secret format');
  return gcmOpen(masterKey, ivText, bodyText, associatedData).toString('utf8');
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretBoxError('the master key must be 32 bytes');
}
