import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilDiv, formatCredits, MAX_NANOCREDITS, MoneyFormatError, parseCredits, parseNanos } from './money.ts';

// costOf moved to pricing.ts with the five-bucket usage vector: its tests are in pricing.test.ts.

describe('credits text', () => {
  it('parses decimal credits exactly', () => {
    expect(parseCredits('10')).toBe(10_000_000_000n);
    expect(parseCredits('2.50')).toBe(2_500_000_000n);
    expect(parseCredits('0.000000001')).toBe(1n);
    expect(parseCredits('-3.1')).toBe(-3_100_000_000n);
  });

  it.each(['', 'abc', '1.0000000001', '1e3', '1,5', '--1', '.5', '0x10', '1.'])('rejects %j', (text) => {
    expect(() => parseCredits(text)).toThrow(MoneyFormatError);
  });

  it('refuses amounts beyond what a 64-bit integer holds, at the exact boundary', () => {
    expect(parseCredits('9223372036.854775807')).toBe(MAX_NANOCREDITS);
    expect(() => parseCredits('9223372036.854775808')).toThrow(MoneyFormatError);
    expect(() => parseCredits('999999999999999999')).toThrow(/too large/);
  });

  it('formats without trailing zeros', () => {
    expect(formatCredits(0n)).toBe('0');
    expect(formatCredits(2_500_000_000n)).toBe('2.5');
    expect(formatCredits(-1n)).toBe('-0.000000001');
  });

  it('round-trips every amount (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_NANOCREDITS, max: MAX_NANOCREDITS }), (nanos) => {
        expect(parseCredits(formatCredits(nanos))).toBe(nanos);
      }),
    );
  });

  it('parses canonical nanocredit strings and nothing else', () => {
    expect(parseNanos('123')).toBe(123n);
    expect(() => parseNanos('1.5')).toThrow(MoneyFormatError);
    expect(() => parseNanos('')).toThrow(MoneyFormatError);
  });

  it('ceilDiv refuses a negative numerator', () => {
    expect(() => ceilDiv(-1n, 2n)).toThrow(RangeError);
  });
});
