import { MAX_TOKEN_COUNT, tokenCount, type Usage } from '../../canonical/usage.ts';
import { field } from '../json.ts';

/**
 * Gemini's `usageMetadata` into disjoint buckets (Gemini API reference, UsageMetadata):
 * - `promptTokenCount` includes `cachedContentTokenCount` ("when cachedContent is set, this is
 *   still the total effective prompt size"), so input = prompt − cached;
 * - `toolUsePromptTokenCount` (prompts of Google's own tools) is reported beside the prompt, not in
 *   it, and billed as input, so it is added to input;
 * - `thoughtsTokenCount` is reported beside `candidatesTokenCount`, not in it (the total is
 *   prompt + candidates + thoughts + tool-use prompt), so output = candidates and reasoning = thoughts.
 * Gemini has no cache-write charge per request (explicit caches bill storage apart), so cacheWrite
 * stays 0. Null when the object is missing or its prompt count is not a token count; a missing
 * candidate or thought count is 0 (early stream chunks report the prompt only).
 */
export function readGeminiUsage(metadata: unknown): Usage | null {
  const prompt = tokenCount(field(metadata, 'promptTokenCount'));
  if (prompt === null) return null;
  const cached = Math.min(prompt, tokenCount(field(metadata, 'cachedContentTokenCount')) ?? 0);
  const toolPrompt = tokenCount(field(metadata, 'toolUsePromptTokenCount')) ?? 0;
  return {
    input: Math.min(MAX_TOKEN_COUNT, prompt - cached + toolPrompt),
    cachedInput: cached,
    cacheWrite: 0,
    output: tokenCount(field(metadata, 'candidatesTokenCount')) ?? 0,
    reasoning: tokenCount(field(metadata, 'thoughtsTokenCount')) ?? 0,
  };
}

export function sameUsage(a: Usage, b: Usage): boolean {
  return a.input === b.input && a.cachedInput === b.cachedInput && a.cacheWrite === b.cacheWrite && a.output === b.output && a.reasoning === b.reasoning;
}
