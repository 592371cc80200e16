import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byokCredentialAad, channelCredentialAad } from '../snapshot.ts';
import { isSealedWith, masterKeyId, openSecret, rewrapSecret, sealSecret } from './envelope.ts';
import { seal as sealV1, SecretBoxError } from './secretbox.ts';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const aad = byokCredentialAad('org-1', 'cred-1');
const secret = 'sk-proj-very-secret-key-0123456789';

/** The six dot-separated parts: version, key id, wrap iv, wrapped data key, iv, ciphertext+tag. */
const parts = (sealed: string): string[] => sealed.split('.');

/** Flips one bit of one base64url part's bytes (editing the text could touch only padding bits). */
function flipBit(sealed: string, part: number, byte: number): string {
  const all = parts(sealed);
  const bytes = Buffer.from(all[part]!, 'base64url');
  bytes[byte]! ^= 0x01;
  all[part] = bytes.toString('base64url');
  return all.join('.');
}

describe('envelope sealing', () => {
  it('opens what it sealed, in the e1 format, without the secret or the key in the text', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(openSecret(oldKey, sealed, aad)).toBe(secret);
    expect(openSecret([oldKey], sealed, aad)).toBe(secret);
    expect(parts(sealed)).toHaveLength(6);
    expect(parts(sealed)[0]).toBe('e1');
    expect(parts(sealed)[1]).toBe(masterKeyId(oldKey));
    expect(sealed).not.toContain('sk-proj');
    expect(sealed).not.toContain(oldKey.toString('base64url').slice(0, 11));
    // 12-byte IVs, a 32-byte data key plus tag, the secret's bytes plus tag.
    expect(Buffer.from(parts(sealed)[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts(sealed)[3]!, 'base64url')).toHaveLength(48);
    expect(Buffer.from(parts(sealed)[4]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts(sealed)[5]!, 'base64url')).toHaveLength(Buffer.byteLength(secret) + 16);
  });

  it('round-trips any text, empty and non-ASCII included (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ maxLength: 40 }), (text, data) => {
        expect(openSecret(oldKey, sealSecret(oldKey, text, data), data)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh data key and IVs every time', () => {
    const a = parts(sealSecret(oldKey, secret, aad));
    const b = parts(sealSecret(oldKey, secret, aad));
    expect(a.slice(0, 2)).toEqual(b.slice(0, 2));
    for (const i of [2, 3, 4, 5]) expect(a[i]).not.toBe(b[i]);
  });

  it('fails with other associated data', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(() => openSecret(oldKey, sealed, byokCredentialAad('org-1', 'cred-2'))).toThrow(SecretBoxError);
    expect(() => openSecret(oldKey, sealed, byokCredentialAad('org-2', 'cred-1'))).toThrow(SecretBoxError);
    expect(() => openSecret(oldKey, sealed, `${aad} `)).toThrow(SecretBoxError);
    expect(() => openSecret(oldKey, sealed, '')).toThrow(SecretBoxError);
  });

  it('fails when a ciphertext is moved onto another record, whole or only its body', () => {
    const mine = sealSecret(oldKey, 'sk-mine-0000000000', byokCredentialAad('org-a', 'cred-a'));
    const theirs = sealSecret(oldKey, 'sk-theirs-00000000', channelCredentialAad('ch-1'));
    expect(() => openSecret(oldKey, theirs, byokCredentialAad('org-a', 'cred-a'))).toThrow(SecretBoxError);
    // My wrapped data key with their ciphertext, and the other way round.
    const spliced = [...parts(mine).slice(0, 4), ...parts(theirs).slice(4)].join('.');
    expect(() => openSecret(oldKey, spliced, byokCredentialAad('org-a', 'cred-a'))).toThrow(SecretBoxError);
    expect(() => openSecret(oldKey, spliced, channelCredentialAad('ch-1'))).toThrow(SecretBoxError);
  });

  it('fails under another master key, naming no key', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(() => openSecret(newKey, sealed, aad)).toThrow(/not configured/);
    expect(() => openSecret([], sealed, aad)).toThrow(SecretBoxError);
    // A key ring entry with the right id but another key cannot exist; a forged id fails authentication.
    const forged = [parts(sealed)[0], masterKeyId(newKey), ...parts(sealed).slice(2)].join('.');
    expect(() => openSecret(newKey, forged, aad)).toThrow(/failed authentication/);
  });

  it('fails on tampering with any byte-carrying part, at its first and last byte', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    for (const part of [2, 3, 4, 5]) {
      const length = Buffer.from(parts(sealed)[part]!, 'base64url').length;
      for (const byte of [0, length - 1]) {
        expect(() => openSecret(oldKey, flipBit(sealed, part, byte), aad)).toThrow(SecretBoxError);
      }
    }
  });

  it('fails on any single-bit flip anywhere (property)', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    const sizes = [2, 3, 4, 5].map((part) => Buffer.from(parts(sealed)[part]!, 'base64url').length);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.nat(), (which, at) => {
        expect(() => openSecret(oldKey, flipBit(sealed, which + 2, at % sizes[which]!), aad)).toThrow(SecretBoxError);
      }),
    );
  });

  it('refuses a wrong version, key id, part count or truncated parts', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    const [, kid, wrapIv, wrapped, iv, body] = parts(sealed);
    const bad = [
      ['e2', kid, wrapIv, wrapped, iv, body].join('.'),
      ['e1', 'AAAAAAAAAAA', wrapIv, wrapped, iv, body].join('.'),
      ['e1', kid, wrapIv, wrapped, iv].join('.'),
      [...parts(sealed), 'extra'].join('.'),
      ['e1', kid, wrapIv!.slice(0, 8), wrapped, iv, body].join('.'),
      ['e1', kid, wrapIv, wrapped, iv!.slice(0, 8), body].join('.'),
      ['e1', kid, wrapIv, wrapped, iv, body!.slice(0, 20)].join('.'),
      ['e1', kid, wrapIv, wrapped, iv, ''].join('.'),
      ['e1', kid, wrapIv, '', iv, body].join('.'),
      '',
      'garbage',
    ];
    for (const text of bad) expect(() => openSecret(oldKey, text, aad), text).toThrow(SecretBoxError);
  });

  it('requires 32-byte master keys', () => {
    expect(() => sealSecret(randomBytes(16), secret, aad)).toThrow(SecretBoxError);
    expect(() => rewrapSecret([oldKey], sealSecret(oldKey, secret, aad), aad, randomBytes(31))).toThrow(SecretBoxError);
  });
});

describe('master key rotation', () => {
  it('a key ring opens secrets sealed under any of its keys', () => {
    const underOld = sealSecret(oldKey, 'old-secret-value', aad);
    const underNew = sealSecret(newKey, 'new-secret-value', aad);
    for (const ring of [[newKey, oldKey], [oldKey, newKey]]) {
      expect(openSecret(ring, underOld, aad)).toBe('old-secret-value');
      expect(openSecret(ring, underNew, aad)).toBe('new-secret-value');
    }
  });

  it('re-wraps the data key only: the old key alone then fails, the new one opens', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    const rewrapped = rewrapSecret([oldKey], sealed, aad, newKey);
    expect(parts(rewrapped)[1]).toBe(masterKeyId(newKey));
    expect(parts(rewrapped).slice(4)).toEqual(parts(sealed).slice(4));
    expect(parts(rewrapped)[3]).not.toBe(parts(sealed)[3]);
    expect(() => openSecret(oldKey, rewrapped, aad)).toThrow(SecretBoxError);
    expect(openSecret(newKey, rewrapped, aad)).toBe(secret);
    expect(openSecret([newKey, oldKey], rewrapped, aad)).toBe(secret);
  });

  it('re-wrapping needs the right associated data and a ring holding the sealing key', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(() => rewrapSecret([oldKey], sealed, byokCredentialAad('org-2', 'cred-1'), newKey)).toThrow(SecretBoxError);
    expect(() => rewrapSecret([newKey], sealed, aad, newKey)).toThrow(/not configured/);
  });

  it('re-wrapping under the same key is harmless', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(openSecret(oldKey, rewrapSecret([oldKey], sealed, aad, oldKey), aad)).toBe(secret);
  });

  it('isSealedWith tells which key sealed a secret', () => {
    const sealed = sealSecret(oldKey, secret, aad);
    expect(isSealedWith(oldKey, sealed)).toBe(true);
    expect(isSealedWith(newKey, sealed)).toBe(false);
    expect(isSealedWith(newKey, rewrapSecret([oldKey], sealed, aad, newKey))).toBe(true);
    expect(isSealedWith(oldKey, sealV1(oldKey, secret, aad))).toBe(false);
  });

  it('masterKeyId is stable per key, differs between keys, and is not the key', () => {
    expect(masterKeyId(oldKey)).toBe(masterKeyId(Buffer.from(oldKey)));
    expect(masterKeyId(oldKey)).not.toBe(masterKeyId(newKey));
    expect(masterKeyId(oldKey)).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(oldKey.toString('base64url')).not.toContain(masterKeyId(oldKey));
  });
});

describe('v1 secrets (secretbox)', () => {
  it('still open, with any key of the ring', () => {
    const v1 = sealV1(oldKey, secret, aad);
    expect(openSecret(oldKey, v1, aad)).toBe(secret);
    expect(openSecret([newKey, oldKey], v1, aad)).toBe(secret);
    expect(() => openSecret([newKey], v1, aad)).toThrow(SecretBoxError);
    expect(() => openSecret([oldKey], v1, channelCredentialAad('ch-1'))).toThrow(SecretBoxError);
    expect(() => openSecret([], v1, aad)).toThrow(SecretBoxError);
  });

  it('re-wrap into the envelope format under the new key', () => {
    const v1 = sealV1(oldKey, secret, aad);
    const rewrapped = rewrapSecret([newKey, oldKey], v1, aad, newKey);
    expect(parts(rewrapped)[0]).toBe('e1');
    expect(isSealedWith(newKey, rewrapped)).toBe(true);
    expect(openSecret(newKey, rewrapped, aad)).toBe(secret);
    expect(() => openSecret(oldKey, rewrapped, aad)).toThrow(SecretBoxError);
    expect(() => rewrapSecret([oldKey], v1, byokCredentialAad('org-9', 'cred-1'), newKey)).toThrow(SecretBoxError);
  });
});
