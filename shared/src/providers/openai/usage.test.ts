import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_COUNT, usage, type Usage } from '../../canonical/usage.ts';
import { readOpenAIUsage, writeOpenAIUsage } from './usage.ts';

describe('OpenAI usage', () => {
  it('splits prompt_tokens (which include cached_tokens) and completion_tokens (which include reasoning_tokens)', () => {
    expect(
      readOpenAIUsage({
        prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 192, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      }),
    ).toEqual({ input: 86, cachedInput: 1920, cacheWrite: 0, output: 108, reasoning: 192 });
  });

  it('reads plain totals without details', () => {
    expect(readOpenAIUsage({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 })).toEqual(usage({ input: 9, output: 12 }));
  });

  it("reads DeepSeek's prompt_cache_hit_tokens when there are no prompt details", () => {
    expect(readOpenAIUsage({ prompt_tokens: 100, completion_tokens: 1, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 })).toEqual(usage({ input: 36, cachedInput: 64, output: 1 }));
    // The standard field wins when both are present.
    expect(readOpenAIUsage({ prompt_tokens: 100, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 10 }, prompt_cache_hit_tokens: 64 })).toEqual(usage({ input: 90, cachedInput: 10, output: 1 }));
  });

  it('clamps details to their totals, so no bucket goes negative', () => {
    expect(readOpenAIUsage({ prompt_tokens: 5, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 4 } })).toEqual(usage({ cachedInput: 5, reasoning: 3 }));
  });

  it('ignores details that are not token counts', () => {
    expect(readOpenAIUsage({ prompt_tokens: 5, completion_tokens: 3, prompt_tokens_details: { cached_tokens: -2 }, completion_tokens_details: { reasoning_tokens: '3' } })).toEqual(usage({ input: 5, output: 3 }));
    expect(readOpenAIUsage({ prompt_tokens: 5, completion_tokens: 3, prompt_tokens_details: null, completion_tokens_details: 7 })).toEqual(usage({ input: 5, output: 3 }));
  });

  it('clamps absurd totals to the maximum', () => {
    expect(readOpenAIUsage({ prompt_tokens: 1e20, completion_tokens: 1e20, completion_tokens_details: { reasoning_tokens: 1e20 } })).toEqual(usage({ input: MAX_TOKEN_COUNT, reasoning: MAX_TOKEN_COUNT }));
  });

  it.each([undefined, null, 5, 'usage', [], {}, { prompt_tokens: 1 }, { completion_tokens: 1 }, { prompt_tokens: -1, completion_tokens: 1 }, { prompt_tokens: 1, completion_tokens: 0.5 }])(
    'reads %j as no usage',
    (value) => {
      expect(readOpenAIUsage(value)).toBeNull();
    },
  );

  it('writes the canonical vector back the way OpenAI reports it, and reads it again unchanged (property)', () => {
    const n = fc.integer({ min: 0, max: 1_000_000_000 });
    fc.assert(
      fc.property(fc.record({ input: n, cachedInput: n, cacheWrite: fc.constant(0), output: n, reasoning: n }), (u: Usage) => {
        const written = writeOpenAIUsage(u);
        expect(written.prompt_tokens).toBe(u.input + u.cachedInput);
        expect(written.total_tokens).toBe(written.prompt_tokens + written.completion_tokens);
        expect(readOpenAIUsage(written)).toEqual(u);
      }),
    );
  });

  it('counts cache writes as prompt tokens when writing', () => {
    expect(writeOpenAIUsage({ input: 1, cachedInput: 2, cacheWrite: 4, output: 8, reasoning: 16 })).toEqual({
      prompt_tokens: 7, completion_tokens: 24, total_tokens: 31, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 16 },
    });
  });
});
