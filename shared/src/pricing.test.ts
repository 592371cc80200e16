import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_COUNT, USAGE_FIELDS, usage, ZERO_USAGE, type Usage } from './canonical/usage.ts';
import { MoneyFormatError } from './money.ts';
import { costOf, encodePrice, feeOf, FREE, imagePriceOf, markupPrice, MAX_IMAGE_PRICES, parsePrice, type Price } from './pricing.ts';

const tokens = fc.integer({ min: 0, max: 10_000_000 });
const usageVector: fc.Arbitrary<Usage> = fc.record({ input: tokens, cachedInput: tokens, cacheWrite: tokens, output: tokens, reasoning: tokens });
const pricePart = fc.bigInt({ min: 0n, max: 1_000_000_000_000n }); // up to 1,000 credits per 1M tokens
const price: fc.Arbitrary<Price> = fc.record({ input: pricePart, cachedInput: pricePart, cacheWrite: pricePart, output: pricePart, reasoning: pricePart });
const field = fc.constantFrom(...USAGE_FIELDS);

/** The exact cost times one million: what costOf must round up to a whole nanocredit. */
const exactTimesMillion = (u: Usage, p: Price): bigint => USAGE_FIELDS.reduce((sum, f) => sum + BigInt(u[f]) * p[f], 0n);

// Distinct rates per bucket, so a bucket billed at another's rate shows.
const distinct: Price = { input: 2_000_000_000n, cachedInput: 500_000_000n, cacheWrite: 2_500_000_000n, output: 8_000_000_000n, reasoning: 12_000_000_000n };

describe('costOf', () => {
  it('bills each of the five buckets at its own rate', () => {
    expect(costOf(usage({ input: 1_000_000 }), distinct)).toBe(2_000_000_000n);
    expect(costOf(usage({ cachedInput: 1_000_000 }), distinct)).toBe(500_000_000n);
    expect(costOf(usage({ cacheWrite: 1_000_000 }), distinct)).toBe(2_500_000_000n);
    expect(costOf(usage({ output: 1_000_000 }), distinct)).toBe(8_000_000_000n);
    expect(costOf(usage({ reasoning: 1_000_000 }), distinct)).toBe(12_000_000_000n);
    expect(costOf({ input: 1_000_000, cachedInput: 2_000_000, cacheWrite: 3_000_000, output: 4_000_000, reasoning: 5_000_000 }, distinct)).toBe(
      2_000_000_000n + 1_000_000_000n + 7_500_000_000n + 32_000_000_000n + 60_000_000_000n,
    );
  });

  it('rounds the sum up once, not each bucket', () => {
    const p: Price = { input: 150_000_000n, cachedInput: 1n, cacheWrite: 1n, output: 600_000_001n, reasoning: 1n };
    // 13 * 150 + 7 * 600.000001 = 6150.000007 nanocredits -> 6151
    expect(costOf(usage({ input: 13, output: 7 }), p)).toBe(6151n);
    // Three buckets of 0.000001 nanocredits each: rounded per bucket that would be 3, rounded once it is 1.
    expect(costOf(usage({ cachedInput: 1, cacheWrite: 1, reasoning: 1 }), p)).toBe(1n);
    // 1 token at 3 nanocredits per million is 0.000003 nanocredits -> 1
    expect(costOf(usage({ input: 1 }), { ...FREE, input: 3n })).toBe(1n);
    expect(costOf(ZERO_USAGE, distinct)).toBe(0n);
    expect(costOf(usage({ input: 5, output: 5 }), FREE)).toBe(0n);
  });

  it('stays exact at the largest token counts', () => {
    const most = { input: MAX_TOKEN_COUNT, cachedInput: MAX_TOKEN_COUNT, cacheWrite: MAX_TOKEN_COUNT, output: MAX_TOKEN_COUNT, reasoning: MAX_TOKEN_COUNT };
    expect(costOf(most, { ...FREE, reasoning: 999_999_999_999n })).toBe(999_999_999_999_000_000n);
  });

  it('is the exact ceiling of the rational cost over all five buckets (property)', () => {
    fc.assert(
      fc.property(usageVector, price, (u, p) => {
        const cost = costOf(u, p);
        const exact = exactTimesMillion(u, p);
        // cost is the least integer with cost * 1e6 >= exact * 1e6
        expect(cost * 1_000_000n >= exact).toBe(true);
        expect(cost === 0n || (cost - 1n) * 1_000_000n < exact).toBe(true);
      }),
    );
  });

  it('never charges less for more tokens in any bucket (property)', () => {
    fc.assert(
      fc.property(usageVector, field, fc.integer({ min: 1, max: 1000 }), price, (u, f, more, p) => {
        expect(costOf({ ...u, [f]: u[f] + more }, p) >= costOf(u, p)).toBe(true);
      }),
    );
  });

  it('never charges less at a higher rate in any bucket (property)', () => {
    fc.assert(
      fc.property(usageVector, field, fc.bigInt({ min: 1n, max: 1_000_000n }), price, (u, f, more, p) => {
        expect(costOf(u, { ...p, [f]: p[f] + more }) >= costOf(u, p)).toBe(true);
      }),
    );
  });

  it('overcharges a split request by at most one nanocredit per part (property)', () => {
    fc.assert(
      fc.property(usageVector, usageVector, price, (a, b, p) => {
        const whole = costOf({ input: a.input + b.input, cachedInput: a.cachedInput + b.cachedInput, cacheWrite: a.cacheWrite + b.cacheWrite, output: a.output + b.output, reasoning: a.reasoning + b.reasoning }, p);
        const parts = costOf(a, p) + costOf(b, p);
        expect(parts >= whole && parts - whole <= 1n).toBe(true);
      }),
    );
  });

  it.each(USAGE_FIELDS)('refuses a %s count that is not a non-negative safe integer', (f) => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => costOf({ ...ZERO_USAGE, [f]: bad }, distinct), String(bad)).toThrow(RangeError);
    }
  });
});

describe('feeOf', () => {
  it('takes basis points of an amount, rounded up', () => {
    expect(feeOf(1001n, 500)).toBe(51n); // 50.05
    expect(feeOf(1000n, 500)).toBe(50n);
    expect(feeOf(1n, 1)).toBe(1n); // 0.0001
    expect(feeOf(0n, 500)).toBe(0n);
    expect(feeOf(12_345n, 0)).toBe(0n);
    expect(feeOf(12_345n, 10_000)).toBe(12_345n);
    expect(feeOf(2n ** 62n, 500)).toBe(2n ** 62n / 20n + 1n);
  });

  it('is the exact ceiling (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.integer({ min: 0, max: 100_000 }), (amount, bps) => {
        const fee = feeOf(amount, bps);
        expect(fee * 10_000n >= amount * BigInt(bps)).toBe(true);
        expect(fee === 0n || (fee - 1n) * 10_000n < amount * BigInt(bps)).toBe(true);
      }),
    );
  });

  it('refuses negative or fractional basis points and negative amounts', () => {
    expect(() => feeOf(100n, -1)).toThrow(RangeError);
    expect(() => feeOf(100n, 2.5)).toThrow(RangeError);
    expect(() => feeOf(100n, Number.NaN)).toThrow(RangeError);
    expect(() => feeOf(-100n, 500)).toThrow(RangeError);
  });
});

describe('markupPrice', () => {
  it('rounds each bucket\'s rate up to a whole nanocredit on its own, images too', () => {
    const cost: Price = { input: 333n, cachedInput: 100n, cacheWrite: 1n, output: 1_000n, reasoning: 0n, images: [{ size: '1024x1024', quality: 'hd', price: 40_000_001n }] };
    expect(markupPrice(cost, 12_000)).toEqual({ input: 400n, cachedInput: 120n, cacheWrite: 2n, output: 1_200n, reasoning: 0n, images: [{ size: '1024x1024', quality: 'hd', price: 48_000_002n }] });
    expect(markupPrice(cost, 10_000)).toEqual(cost);
    expect(markupPrice(FREE, 50_000)).toEqual(FREE);
    expect(() => markupPrice(cost, -1)).toThrow(RangeError);
  });

  it('never bills less than cost × markup, and at most one nanocredit per bucket more', () => {
    const bps = fc.integer({ min: 0, max: 1_000_000 });
    fc.assert(
      fc.property(usageVector, price, bps, (u, p, b) => {
        const billed = costOf(u, markupPrice(p, b));
        const exact = exactTimesMillion(u, p) * BigInt(b); // × 1e6 × 1e4
        const denominator = 1_000_000n * 10_000n;
        const floor = exact / denominator;
        const atLeast = exact % denominator === 0n ? floor : floor + 1n;
        const slack = USAGE_FIELDS.reduce((sum, f) => sum + BigInt(u[f]), 0n); // each token's rate rounded up by < 1 nanocredit per million
        return billed >= atLeast && billed <= atLeast + slack / 1_000_000n + 1n;
      }),
    );
  });
});

describe('parsePrice', () => {
  it('reads every bucket given', () => {
    expect(parsePrice({ input: '1', output: '2', cachedInput: '3', cacheWrite: '4', reasoning: '5' })).toEqual({ input: 1n, output: 2n, cachedInput: 3n, cacheWrite: 4n, reasoning: 5n });
  });

  it('falls back to the input rate for cache reads and writes and to the output rate for reasoning, never to zero', () => {
    expect(parsePrice({ input: '2500', output: '10000' })).toEqual({ input: 2500n, cachedInput: 2500n, cacheWrite: 2500n, output: 10000n, reasoning: 10000n });
    expect(parsePrice({ input: '2500', output: '10000', cachedInput: '0' })).toEqual({ input: 2500n, cachedInput: 0n, cacheWrite: 2500n, output: 10000n, reasoning: 10000n });
    expect(parsePrice({ input: '2500', output: '10000', reasoning: '0' })).toEqual({ input: 2500n, cachedInput: 2500n, cacheWrite: 2500n, output: 10000n, reasoning: 0n });
  });

  it('is exact past 2^53', () => {
    expect(parsePrice({ input: '9007199254740993', output: '0' }).input).toBe(9_007_199_254_740_993n);
  });

  it('round-trips through encodePrice (property)', () => {
    fc.assert(
      fc.property(price, (p) => {
        expect(parsePrice(encodePrice(p))).toEqual(p);
      }),
    );
  });

  it.each(['input', 'output', 'cachedInput', 'cacheWrite', 'reasoning'] as const)('refuses a negative %s', (name) => {
    expect(() => parsePrice({ input: '1', output: '1', [name]: '-1' })).toThrow(MoneyFormatError);
  });

  it.each(['', 'abc', '1.5', '1e3', ' 1', '1 ', '+1', '0x10', '1_000', '١٢', '123456789012345678901'])('refuses %j', (text) => {
    expect(() => parsePrice({ input: text, output: '1' })).toThrow(MoneyFormatError);
    expect(() => parsePrice({ input: '1', output: '1', cacheWrite: text })).toThrow(MoneyFormatError);
  });

  it('refuses any text that is not a decimal integer (property)', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/^-?\d+$/.test(s)), fc.constantFrom('input', 'output', 'cachedInput', 'cacheWrite', 'reasoning'), (text, name) => {
        expect(() => parsePrice({ input: '1', output: '1', [name]: text })).toThrow(MoneyFormatError);
      }),
    );
  });

  it('refuses a missing input or output rate, and rates that are not strings', () => {
    expect(() => parsePrice({ output: '1' } as never)).toThrow(MoneyFormatError);
    expect(() => parsePrice({ input: '1' } as never)).toThrow(MoneyFormatError);
    expect(() => parsePrice({ input: 1, output: '1' } as never)).toThrow(MoneyFormatError);
    expect(() => parsePrice({ input: '1', output: '1', reasoning: null } as never)).toThrow(MoneyFormatError);
  });
});

describe('image prices', () => {
  const images = (...entries: [size: string, quality: string, price: bigint][]): Price => ({ ...FREE, images: entries.map(([size, quality, price]) => ({ size, quality, price })) });
  const dalle = images(['1024x1024', 'standard', 40_000_000n], ['1024x1024', 'hd', 80_000_000n], ['1792x1024', 'standard', 80_000_000n], ['1792x1024', 'hd', 120_000_000n]);

  it('prices an image by its size and quality, and refuses what is not listed', () => {
    expect(imagePriceOf(dalle, '1024x1024', 'standard')).toBe(40_000_000n);
    expect(imagePriceOf(dalle, '1792x1024', 'hd')).toBe(120_000_000n);
    expect(imagePriceOf(dalle, '512x512', 'standard')).toBeNull();
    expect(imagePriceOf(dalle, '1024x1024', 'low')).toBeNull();
    expect(imagePriceOf(FREE, '1024x1024', 'standard')).toBeNull();
  });

  it('prices a size or quality left to the provider at the dearest entry that fits the rest', () => {
    expect(imagePriceOf(dalle, null, 'standard')).toBe(80_000_000n);
    expect(imagePriceOf(dalle, '1024x1024', null)).toBe(80_000_000n);
    expect(imagePriceOf(dalle, 'auto', 'auto')).toBe(120_000_000n);
    expect(imagePriceOf(dalle, null, null)).toBe(120_000_000n);
  });

  it('takes an entry priced for auto itself when there is one', () => {
    const gpt = images(['1024x1024', 'low', 11_000_000n], ['1536x1024', 'high', 250_000_000n], ['auto', 'auto', 190_000_000n]);
    expect(imagePriceOf(gpt, null, null)).toBe(190_000_000n);
    expect(imagePriceOf(gpt, 'auto', 'auto')).toBe(190_000_000n);
    expect(imagePriceOf(gpt, '1024x1024', 'low')).toBe(11_000_000n);
    // auto quality is listed only beside an auto size.
    expect(imagePriceOf(gpt, '1024x1024', null)).toBeNull();
  });

  it('travel in snapshots and back, and a price without them reads as before', () => {
    const record = encodePrice(dalle);
    expect(record.images).toEqual([
      { size: '1024x1024', quality: 'standard', price: '40000000' },
      { size: '1024x1024', quality: 'hd', price: '80000000' },
      { size: '1792x1024', quality: 'standard', price: '80000000' },
      { size: '1792x1024', quality: 'hd', price: '120000000' },
    ]);
    expect(parsePrice(record)).toEqual(dalle);
    expect('images' in parsePrice({ input: '1', output: '2' })).toBe(false);
    expect('images' in encodePrice(FREE)).toBe(false);
  });

  it.each([
    ['a negative price', [{ size: '1024x1024', quality: 'standard', price: '-1' }]],
    ['a price in credits', [{ size: '1024x1024', quality: 'standard', price: '0.04' }]],
    ['no quality', [{ size: '1024x1024', quality: '', price: '1' }]],
    ['one size and quality twice', [{ size: '1024x1024', quality: 'hd', price: '1' }, { size: '1024x1024', quality: 'hd', price: '2' }]],
    ['too many entries', Array.from({ length: MAX_IMAGE_PRICES + 1 }, (_, i) => ({ size: `${i + 1}x1`, quality: 'standard', price: '1' }))],
    ['not a list', { size: '1024x1024' }],
  ])('refuses %s', (_name, list) => {
    expect(() => parsePrice({ input: '0', output: '0', images: list as never })).toThrow(MoneyFormatError);
  });
});
