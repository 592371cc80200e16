import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_COUNT, usage } from '../../canonical/usage.ts';
import { readBedrockUsage } from './usage.ts';

describe('readBedrockUsage', () => {
  it('reads input and output without a cache', () => {
    expect(readBedrockUsage({ inputTokens: 21, outputTokens: 6, totalTokens: 27 })).toEqual(usage({ input: 21, output: 6 }));
  });

  it('takes inputTokens as the uncached input, cache reads and writes beside it (total = all four)', () => {
    expect(readBedrockUsage({ inputTokens: 24, outputTokens: 12, totalTokens: 1548, cacheReadInputTokens: 1024, cacheWriteInputTokens: 488 })).toEqual(
      usage({ input: 24, cachedInput: 1024, cacheWrite: 488, output: 12 }),
    );
    // Also when the cache tokens are fewer than the input: the total says nothing is inside it.
    expect(readBedrockUsage({ inputTokens: 2000, outputTokens: 12, totalTokens: 3036, cacheReadInputTokens: 1024 })).toEqual(usage({ input: 2000, cachedInput: 1024, output: 12 }));
    // Without a total, the documented reading holds.
    expect(readBedrockUsage({ inputTokens: 2000, outputTokens: 12, cacheReadInputTokens: 1024 })).toEqual(usage({ input: 2000, cachedInput: 1024, output: 12 }));
  });

  it('splits the cache tokens out of an inputTokens that includes them, told by a total of input + output', () => {
    expect(readBedrockUsage({ inputTokens: 1536, outputTokens: 12, totalTokens: 1548, cacheReadInputTokens: 1024, cacheWriteInputTokens: 488 })).toEqual(
      usage({ input: 24, cachedInput: 1024, cacheWrite: 488, output: 12 }),
    );
  });

  it('does not split when the cache tokens could not be inside the input', () => {
    expect(readBedrockUsage({ inputTokens: 10, outputTokens: 1000, totalTokens: 1010, cacheReadInputTokens: 500 })).toEqual(usage({ input: 10, cachedInput: 500, output: 1000 }));
  });

  it('is null without both required counts, and ignores unreadable optional ones', () => {
    for (const value of [undefined, null, 5, 'x', [], {}, { inputTokens: 1 }, { outputTokens: 1 }, { inputTokens: '1', outputTokens: 1 }, { inputTokens: -1, outputTokens: 1 }, { inputTokens: 1.5, outputTokens: 1 }]) {
      expect(readBedrockUsage(value)).toBe(null);
    }
    expect(readBedrockUsage({ inputTokens: 3, outputTokens: 4, cacheReadInputTokens: -5, cacheWriteInputTokens: 'x', totalTokens: null })).toEqual(usage({ input: 3, output: 4 }));
  });

  it('clamps absurd counts to the maximum', () => {
    expect(readBedrockUsage({ inputTokens: 1e20, outputTokens: 1e20, cacheReadInputTokens: 1e20 })).toEqual(usage({ input: MAX_TOKEN_COUNT, cachedInput: MAX_TOKEN_COUNT, output: MAX_TOKEN_COUNT }));
  });
});
