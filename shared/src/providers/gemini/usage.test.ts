import { describe, expect, it } from 'vitest';
import { usage } from '../../canonical/usage.ts';
import { readGeminiUsage } from './usage.ts';

describe('Gemini usage into disjoint buckets', () => {
  it('splits cached tokens out of the prompt count', () => {
    expect(readGeminiUsage({ promptTokenCount: 4810, cachedContentTokenCount: 4096, candidatesTokenCount: 52, totalTokenCount: 4862 })).toEqual(usage({ input: 714, cachedInput: 4096, output: 52 }));
  });

  it('counts thoughts beside the candidates, not inside them', () => {
    expect(readGeminiUsage({ promptTokenCount: 18, candidatesTokenCount: 11, thoughtsTokenCount: 220, totalTokenCount: 249 })).toEqual(usage({ input: 18, output: 11, reasoning: 220 }));
  });

  it("adds the tool-use prompt (Google's own tools) to input", () => {
    expect(readGeminiUsage({ promptTokenCount: 10, toolUsePromptTokenCount: 40, candidatesTokenCount: 5, totalTokenCount: 55 })).toEqual(usage({ input: 50, output: 5 }));
  });

  it('reads an early stream chunk with the prompt count only', () => {
    expect(readGeminiUsage({ promptTokenCount: 9, totalTokenCount: 9 })).toEqual(usage({ input: 9 }));
  });

  it('never counts more cached tokens than the prompt had', () => {
    expect(readGeminiUsage({ promptTokenCount: 100, cachedContentTokenCount: 300, candidatesTokenCount: 1 })).toEqual(usage({ cachedInput: 100, output: 1 }));
  });

  it.each([undefined, null, 5, 'x', [], {}, { candidatesTokenCount: 3 }, { promptTokenCount: '9' }, { promptTokenCount: -1 }, { promptTokenCount: 2.5 }])('reads %j as no usage', (value) => {
    expect(readGeminiUsage(value)).toBeNull();
  });

  it('reads a broken optional count as 0', () => {
    expect(readGeminiUsage({ promptTokenCount: 9, cachedContentTokenCount: 'x', candidatesTokenCount: -3, thoughtsTokenCount: null })).toEqual(usage({ input: 9 }));
  });
});
