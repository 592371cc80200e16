import { tokenCount, type Usage } from '../../canonical/usage.ts';
import { field } from '../json.ts';

/**
 * OpenAI's usage object into disjoint buckets: `prompt_tokens` includes
 * `prompt_tokens_details.cached_tokens` (DeepSeek: `prompt_cache_hit_tokens`), and
 * `completion_tokens` includes `completion_tokens_details.reasoning_tokens`. Null when the object
 * is missing or its two totals are not token counts.
 */
export function readOpenAIUsage(usage: unknown): Usage | null {
  const prompt = tokenCount(field(usage, 'prompt_tokens'));
  const completion = tokenCount(field(usage, 'completion_tokens'));
  if (prompt === null || completion === null) return null;
  const cached = Math.min(
    prompt,
    tokenCount(field(field(usage, 'prompt_tokens_details'), 'cached_tokens')) ?? tokenCount(field(usage, 'prompt_cache_hit_tokens')) ?? 0,
  );
  const reasoning = Math.min(completion, tokenCount(field(field(usage, 'completion_tokens_details'), 'reasoning_tokens')) ?? 0);
  return { input: prompt - cached, cachedInput: cached, cacheWrite: 0, output: completion - reasoning, reasoning };
}

/** The canonical vector as OpenAI reports it. */
export function writeOpenAIUsage(usage: Usage) {
  const prompt = usage.input + usage.cachedInput + usage.cacheWrite;
  const completion = usage.output + usage.reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedInput },
    completion_tokens_details: { reasoning_tokens: usage.reasoning },
  };
}
