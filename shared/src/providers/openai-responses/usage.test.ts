import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_COUNT, usage, USAGE_FIELDS } from '../../canonical/usage.ts';
import { readResponsesUsage, writeResponsesUsage } from './usage.ts';

describe('Responses usage', () => {
  it('splits cached, cache-written and reasoning tokens out of their totals', () => {
    expect(readResponsesUsage({ input_tokens: 1200, input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 100 }, output_tokens: 530, output_tokens_details: { reasoning_tokens: 512 }, total_tokens: 1730 })).toEqual(
      usage({ input: 76, cachedInput: 1024, cacheWrite: 100, output: 18, reasoning: 512 }),
    );
  });

  it('reads totals without details, and details past their totals only up to them', () => {
    expect(readResponsesUsage({ input_tokens: 10, output_tokens: 3 })).toEqual(usage({ input: 10, output: 3 }));
    expect(readResponsesUsage({ input_tokens: 10, input_tokens_details: { cached_tokens: 50, cache_write_tokens: 5 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 9 } })).toEqual(
      usage({ cachedInput: 10, reasoning: 3 }),
    );
  });

  it('is null when a total is missing or not a count', () => {
    for (const value of [null, 5, {}, { input_tokens: 5 }, { input_tokens: '5', output_tokens: 1 }, { input_tokens: -1, output_tokens: 1 }, { input_tokens: 1.5, output_tokens: 1 }]) {
      expect(readResponsesUsage(value)).toBeNull();
    }
  });

  it('writes the canonical vector back with its totals (cache writes only when there were some), and reads it back unchanged (property)', () => {
    expect(writeResponsesUsage(usage({ input: 10, cachedInput: 4, output: 2 }))).toEqual({
      input_tokens: 14,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 16,
    });
    expect(writeResponsesUsage(usage({ input: 76, cachedInput: 1024, cacheWrite: 100, output: 18, reasoning: 512 }))).toEqual({
      input_tokens: 1200,
      input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 100 },
      output_tokens: 530,
      output_tokens_details: { reasoning_tokens: 512 },
      total_tokens: 1730,
    });
    const count = fc.nat(MAX_TOKEN_COUNT / 10);
    fc.assert(
      fc.property(fc.record(Object.fromEntries(USAGE_FIELDS.map((f) => [f, count])) as Record<(typeof USAGE_FIELDS)[number], fc.Arbitrary<number>>), (u) => {
        expect(readResponsesUsage(writeResponsesUsage(u))).toEqual(u);
      }),
    );
  });
});
