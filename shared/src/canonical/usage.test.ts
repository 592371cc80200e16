import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addUsage, MAX_TOKEN_COUNT, tokenCount, totalInput, totalOutput, usage, USAGE_FIELDS, ZERO_USAGE, type Usage } from './usage.ts';

const count = fc.integer({ min: 0, max: MAX_TOKEN_COUNT });
const vector: fc.Arbitrary<Usage> = fc.record({ input: count, cachedInput: count, cacheWrite: count, output: count, reasoning: count });

describe('tokenCount', () => {
  it('reads non-negative integers as they are', () => {
    expect(tokenCount(0)).toBe(0);
    expect(tokenCount(1)).toBe(1);
    expect(tokenCount(123_456)).toBe(123_456);
    expect(tokenCount(MAX_TOKEN_COUNT)).toBe(MAX_TOKEN_COUNT);
  });

  it('clamps counts past the maximum to it', () => {
    expect(tokenCount(MAX_TOKEN_COUNT + 1)).toBe(MAX_TOKEN_COUNT);
    expect(tokenCount(Number.MAX_SAFE_INTEGER)).toBe(MAX_TOKEN_COUNT);
    expect(tokenCount(1e300)).toBe(MAX_TOKEN_COUNT);
    expect(tokenCount(Number.MAX_VALUE)).toBe(MAX_TOKEN_COUNT);
  });

  it.each([
    ['a negative count', -1],
    ['a large negative count', -1e20],
    ['a fraction', 1.5],
    ['a tiny fraction', 1e-9],
    ['NaN', Number.NaN],
    ['infinity', Number.POSITIVE_INFINITY],
    ['negative infinity', Number.NEGATIVE_INFINITY],
    ['a numeric string', '12'],
    ['an empty string', ''],
    ['a bigint', 12n],
    ['a boolean', true],
    ['null', null],
    ['undefined', undefined],
    ['an object', { value: 12 }],
    ['an array', [12]],
    ['a boxed number', Object(12)],
  ])('reads %s as absent', (_what, value) => {
    expect(tokenCount(value)).toBeNull();
  });

  it('always gives null or an integer in [0, MAX] (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.anything()), (value) => {
        const n = tokenCount(value);
        expect(n === null || (Number.isSafeInteger(n) && n >= 0 && n <= MAX_TOKEN_COUNT)).toBe(true);
      }),
    );
  });
});

describe('usage vectors', () => {
  it('fill unset buckets with zero', () => {
    expect(usage({ output: 3 })).toEqual({ input: 0, cachedInput: 0, cacheWrite: 0, output: 3, reasoning: 0 });
    expect(usage({})).toEqual(ZERO_USAGE);
    expect(Object.isFrozen(ZERO_USAGE)).toBe(true);
    expect(USAGE_FIELDS).toEqual(['input', 'cachedInput', 'cacheWrite', 'output', 'reasoning']);
  });

  it('add bucket by bucket', () => {
    expect(addUsage({ input: 1, cachedInput: 2, cacheWrite: 3, output: 4, reasoning: 5 }, { input: 10, cachedInput: 20, cacheWrite: 30, output: 40, reasoning: 50 })).toEqual({
      input: 11, cachedInput: 22, cacheWrite: 33, output: 44, reasoning: 55,
    });
  });

  it('saturate at the maximum instead of growing past it', () => {
    const most: Usage = { input: MAX_TOKEN_COUNT, cachedInput: MAX_TOKEN_COUNT, cacheWrite: MAX_TOKEN_COUNT, output: MAX_TOKEN_COUNT, reasoning: MAX_TOKEN_COUNT };
    expect(addUsage(most, most)).toEqual(most);
    expect(addUsage(usage({ output: MAX_TOKEN_COUNT - 1 }), usage({ output: 5, input: 2 }))).toEqual(usage({ output: MAX_TOKEN_COUNT, input: 2 }));
  });

  it('add exactly up to the maximum, commutatively (property)', () => {
    fc.assert(
      fc.property(vector, vector, (a, b) => {
        const sum = addUsage(a, b);
        for (const f of USAGE_FIELDS) expect(sum[f]).toBe(Math.min(MAX_TOKEN_COUNT, a[f] + b[f]));
        expect(addUsage(b, a)).toEqual(sum);
      }),
    );
  });

  it('total input and output the way OpenAI counts them', () => {
    const u: Usage = { input: 1, cachedInput: 2, cacheWrite: 4, output: 8, reasoning: 16 };
    expect(totalInput(u)).toBe(7);
    expect(totalOutput(u)).toBe(24);
  });
});
