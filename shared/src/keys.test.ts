import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bearerToken, generateSecret, hashSecret, isWellFormedSecret } from './keys.ts';

describe('secrets', () => {
  it('generates recognisable keys that verify and hash to what is stored', () => {
    const key = generateSecret('api_key');
    expect(key.secret).toMatch(/^tg_[0-9A-Za-z]{49}$/);
    expect(isWellFormedSecret(key.secret, 'api_key')).toBe(true);
    expect(isWellFormedSecret(key.secret, 'management_token')).toBe(false);
    expect(key.hash).toBe(hashSecret(key.secret));
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    expect(key.prefix).toHaveLength(7);
    expect(key.secret.endsWith(key.last4)).toBe(true);
  });

  it('still verifies and hashes a key minted by an earlier version exactly as then: keys live on in customer configs', () => {
    const minted = 'tg_WtwgJu0V8JpTgfHOqIGAEfpfPSOf2aFNyT4kt6PW1hm4Ad440';
    expect(isWellFormedSecret(minted, 'api_key')).toBe(true);
    expect(hashSecret(minted)).toBe('51aba3f652acd2fd301914138043e976b2bf26b7f43e6a5643c84681dbce2709');
  });

  it('management tokens have their own prefix', () => {
    const token = generateSecret('management_token');
    expect(token.secret.startsWith('tgm_')).toBe(true);
    expect(isWellFormedSecret(token.secret, 'management_token')).toBe(true);
    expect(isWellFormedSecret(token.secret, 'api_key')).toBe(false);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 500 }, () => generateSecret('api_key').secret));
    expect(seen.size).toBe(500);
  });

  it('the checksum catches any single-character change (property)', () => {
    const { secret } = generateSecret('api_key');
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    fc.assert(
      fc.property(fc.integer({ min: 3, max: secret.length - 1 }), fc.constantFrom(...alphabet), (index, char) => {
        fc.pre(secret[index] !== char);
        const changed = secret.slice(0, index) + char + secret.slice(index + 1);
        expect(isWellFormedSecret(changed, 'api_key')).toBe(false);
      }),
    );
  });

  it('rejects other shapes', () => {
    for (const text of ['', 'tg_', 'sk-abc', `tg_${'a'.repeat(49)}`, `${generateSecret('api_key').secret}x`, `tg_${'!'.repeat(49)}`]) {
      expect(isWellFormedSecret(text, 'api_key')).toBe(false);
    }
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
