import { tokenCount, type Usage } from '../../canonical/usage.ts';
import { field } from '../json.ts';

/**
 * Bedrock's TokenUsage into disjoint buckets. AWS's prompt-caching guide bills "tokens not read
 * from or written to the cache" at the input rate and reports the cache reads and writes beside
 * them: `inputTokens` is the uncached input only, and `totalTokens` = inputTokens + outputTokens +
 * cacheReadInputTokens + cacheWriteInputTokens (Anthropic's convention, which Bedrock follows).
 *
 * A model that reported `inputTokens` inclusive of the cache tokens would be billed for them
 * twice; `totalTokens` tells the two readings apart (they differ whenever a cache was used), so an
 * answer whose total equals input + output with the cache tokens inside the input is split.
 * `outputTokens` includes any reasoning (thinking) tokens and Bedrock gives no breakdown, so they
 * stay in `output`. Null when the object is missing or its two required counts are not counts.
 */
export function readBedrockUsage(usage: unknown): Usage | null {
  const input = tokenCount(field(usage, 'inputTokens'));
  const output = tokenCount(field(usage, 'outputTokens'));
  if (input === null || output === null) return null;
  const cachedInput = tokenCount(field(usage, 'cacheReadInputTokens')) ?? 0;
  const cacheWrite = tokenCount(field(usage, 'cacheWriteInputTokens')) ?? 0;
  const total = tokenCount(field(usage, 'totalTokens'));
  const cached = cachedInput + cacheWrite;
  if (cached > 0 && cached <= input && total === input + output) {
    return { input: input - cached, cachedInput, cacheWrite, output, reasoning: 0 };
  }
  return { input, cachedInput, cacheWrite, output, reasoning: 0 };
}
