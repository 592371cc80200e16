import { createHash, randomBytes } from 'node:crypto';
import { gcmOpen, gcmSeal, SecretBoxError } from './gcm.ts';
import { open as openV1 } from './secretbox.ts';

/**
 * Envelope encryption for provider credentials (channel keys, BYOK): each secret is sealed with
 * its own random data key (AES-256-GCM), and the data key is wrapped by the master key. Both
 * layers bind the owner (`associatedData`, e.g. `byok:<org>:<credential>`), so a ciphertext copied
 * onto another record fails to open. Rotating the master key re-wraps data keys only.
 *
 * Format: `e1.<kid>.<wrapped data key>.<iv>.<ciphertext+tag>` in base64url, where `kid` names the
 * master key (a hash prefix, not the key) so a key ring can pick the right one during rotation.
 */
const VERSION = 'e1';
const KEY_BYTES = 32;

export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('tollgate-master-key-id\0').update(masterKey).digest('base64url').slice(0, 11);
}

function assertMasterKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SecretBoxError('the master key must be 32 bytes');
}

export function sealSecret(masterKey: Buffer, plaintext: string, associatedData: string): string {
  assertMasterKey(masterKey);
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const wrapped = gcmSeal(masterKey, dataKey, `wrap:${associatedData}`);
    const body = gcmSeal(dataKey, Buffer.from(plaintext, 'utf8'), associatedData);
    return `${VERSION}.${masterKeyId(masterKey)}.${wrapped}.${body}`;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Opens a sealed secret with whichever master key of the ring sealed it (the first is the current
 * one). Also opens the older single-layer `v1.` format.
 */
export function openSecret(masterKeys: Buffer | readonly Buffer[], sealed: string, associatedData: string): string {
  const ring = Array.isArray(masterKeys) ? (masterKeys as readonly Buffer[]) : [masterKeys as Buffer];
  if (sealed.startsWith('v1.')) {
    let last: unknown = new SecretBoxError('no master key');
    for (const key of ring) {
      try {
        return openV1(key, sealed, associatedData);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }
  const dataKey = unwrapDataKey(ring, sealed, associatedData);
  try {
    const [, , , , iv, body] = sealed.split('.');
    return gcmOpen(dataKey, iv!, body!, associatedData).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

function unwrapDataKey(ring: readonly Buffer[], sealed: string, associatedData: string): Buffer {
  const parts = sealed.split('.');
  if (parts.length !== 6 || parts[0] !== VERSION) throw new SecretBoxError('unsupported sealed secret format');
  const [, kid, wrapIv, wrapBody] = parts;
  const key = ring.find((k) => k.length === KEY_BYTES && masterKeyId(k) === kid);
  if (!key) throw new SecretBoxError('sealed with a master key that is not configured');
  const dataKey = gcmOpen(key, wrapIv!, wrapBody!, `wrap:${associatedData}`);
  if (dataKey.length !== KEY_BYTES) throw new SecretBoxError('corrupt data key');
  return dataKey;
}

/** True when the secret is sealed under this master key already (nothing to re-wrap). */
export function isSealedWith(masterKey: Buffer, sealed: string): boolean {
  return sealed.startsWith(`${VERSION}.${masterKeyId(masterKey)}.`);
}

/**
 * Re-wraps a secret's data key under `newMasterKey` without touching its ciphertext (master-key
 * rotation). A `v1.` secret is opened and sealed anew in the envelope format.
 */
export function rewrapSecret(masterKeys: readonly Buffer[], sealed: string, associatedData: string, newMasterKey: Buffer): string {
  assertMasterKey(newMasterKey);
  if (sealed.startsWith('v1.')) return sealSecret(newMasterKey, openSecret(masterKeys, sealed, associatedData), associatedData);
  const dataKey = unwrapDataKey(masterKeys, sealed, associatedData);
  try {
    const [, , , , iv, body] = sealed.split('.');
    return `${VERSION}.${masterKeyId(newMasterKey)}.${gcmSeal(newMasterKey, dataKey, `wrap:${associatedData}`)}.${iv}.${body}`;
  } finally {
    dataKey.fill(0);
  }
}
