import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilDiv, costOf, formatCredits, MAX_NANOCREDITS, MoneyFormatError, parseCredits, parseNanos, type TokenPrice } from './money.ts';

const tokens = fc.integer({ min: 0, max: 10_000_000 });
const pricePart = fc.bigInt({ min: 0n, max: 1_000_000_000_000n }); // up to 1,000 credits per 1M tokens
const price = fc.record({ inputPerMillion: pricePart, outputPerMillion: pricePart });

describe('costOf', () => {
  it('charges list price exactly when tokens are whole millions', () => {
    const p: TokenPrice = { inputPerMillion: 2_500_000_000n, outputPerMillion: 10_000_000_000n };
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 2_000_000 }, p)).toBe(22_500_000_000n);
  });

  it('rounds a fraction of a nanocredit up', () => {
    const p: TokenPrice = { inputPerMillion: 150_000_000n, outputPerMillion: 600_000_001n };
    // 13 * 150 + 7 * 600.000001 = 6150.000007 nanocredits -> 6151
    expect(costOf({ inputTokens: 13, outputTokens: 7 }, p)).toBe(6151n);
    // 1 token at 3 nanocredits per million is 0.000003 nanocredits -> 1
    expect(costOf({ inputTokens: 1, outputTokens: 0 }, { inputPerMillion: 3n, outputPerMillion: 0n })).toBe(1n);
    expect(costOf({ inputTokens: 0, outputTokens: 0 }, p)).toBe(0n);
  });

  it('is the exact ceiling of the rational cost (property)', () => {
    fc.assert(
      fc.property(tokens, tokens, price, (inputTokens, outputTokens, p) => {
        const cost = costOf({ inputTokens, outputTokens }, p);
        const exactTimesMillion = BigInt(inputTokens) * p.inputPerMillion + BigInt(outputTokens) * p.outputPerMillion;
        // cost is the least integer with cost * 1e6 >= exact * 1e6
        expect(cost * 1_000_000n >= exactTimesMillion).toBe(true);
        expect((cost - 1n) * 1_000_000n < exactTimesMillion || cost === 0n).toBe(true);
      }),
    );
  });

  it('never charges less for more tokens (property)', () => {
    fc.assert(
      fc.property(tokens, tokens, fc.nat(1000), fc.nat(1000), price, (i, o, di, dout, p) => {
        expect(costOf({ inputTokens: i + di, outputTokens: o + dout }, p) >= costOf({ inputTokens: i, outputTokens: o }, p)).toBe(true);
      }),
    );
  });

  it('overcharges a split request by at most one nanocredit per part (property)', () => {
    fc.assert(
      fc.property(tokens, tokens, tokens, tokens, price, (i1, o1, i2, o2, p) => {
        const whole = costOf({ inputTokens: i1 + i2, outputTokens: o1 + o2 }, p);
        const parts = costOf({ inputTokens: i1, outputTokens: o1 }, p) + costOf({ inputTokens: i2, outputTokens: o2 }, p);
        expect(parts >= whole && parts - whole <= 1n).toBe(true);
      }),
    );
  });

  it('rejects token counts that are not non-negative integers', () => {
    const p: TokenPrice = { inputPerMillion: 1n, outputPerMillion: 1n };
    expect(() => costOf({ inputTokens: -1, outputTokens: 0 }, p)).toThrow(RangeError);
    expect(() => costOf({ inputTokens: 1.5, outputTokens: 0 }, p)).toThrow(RangeError);
    expect(() => costOf({ inputTokens: Number.NaN, outputTokens: 0 }, p)).toThrow(RangeError);
  });
});

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
