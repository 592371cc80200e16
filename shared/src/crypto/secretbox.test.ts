import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal, SecretBoxError } from './secretbox.ts';

describe('secretbox', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const sealed = seal(key, 'sk-live-very-secret', 'channel:1');
    expect(sealed).not.toContain('sk-live');
    expect(open(key, sealed, 'channel:1')).toBe('sk-live-very-secret');
  });

  it('uses a fresh nonce every time', () => {
    expect(seal(key, 'x', 'a')).not.toBe(seal(key, 'x', 'a'));
  });

  it('refuses another record, another key, or a tampered ciphertext', () => {
    const sealed = seal(key, 'secret', 'channel:1');
    expect(() => open(key, sealed, 'channel:2')).toThrow(SecretBoxError);
    expect(() => open(randomBytes(32), sealed, 'channel:1')).toThrow(SecretBoxError);
    // Flip one bit of the ciphertext itself (editing base64 text could touch only padding bits).
    const [version, iv, body] = sealed.split('.');
    for (const index of [0, Buffer.from(body!, 'base64url').length - 1]) {
      const bytes = Buffer.from(body!, 'base64url');
      bytes[index]! ^= 1;
      expect(() => open(key, `${version}.${iv}.${bytes.toString('base64url')}`, 'channel:1')).toThrow(SecretBoxError);
    }
    expect(() => open(key, 'v2.x.y', 'channel:1')).toThrow(SecretBoxError);
  });

  it('requires a 32-byte key', () => {
    expect(() => seal(randomBytes(16), 'x', 'a')).toThrow(SecretBoxError);
  });
});
