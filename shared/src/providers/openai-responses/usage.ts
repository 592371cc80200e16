import { tokenCount, totalInput, totalOutput, type Usage } from '../../canonical/usage.ts';
import { field } from '../json.ts';

/**
 * The Responses API's usage object into disjoint buckets: `input_tokens` includes
 * `input_tokens_details.cached_tokens` (read from the prompt cache) and, where reported,
 * `cache_write_tokens` (written to it); `output_tokens` includes
 * `output_tokens_details.reasoning_tokens`. Null when the object is missing or its two totals are
 * not token counts.
 */
export function readResponsesUsage(value: unknown): Usage | null {
  const input = tokenCount(field(value, 'input_tokens'));
  const output = tokenCount(field(value, 'output_tokens'));
  if (input === null || output === null) return null;
  const details = field(value, 'input_tokens_details');
  // A detail larger than its total is not believed past the total: the buckets must stay disjoint.
  const cached = Math.min(input, tokenCount(field(details, 'cached_tokens')) ?? 0);
  const written = Math.min(input - cached, tokenCount(field(details, 'cache_write_tokens')) ?? 0);
  const reasoning = Math.min(output, tokenCount(field(field(value, 'output_tokens_details'), 'reasoning_tokens')) ?? 0);
  return { input: input - cached - written, cachedInput: cached, cacheWrite: written, output: output - reasoning, reasoning };
}

/**
 * The canonical vector as the Responses API reports it. `cache_write_tokens` only when there were
 * cache writes: OpenAI caches without writes of its own, and its answers carry `cached_tokens` alone.
 */
export function writeResponsesUsage(usage: Usage) {
  const input = totalInput(usage);
  const output = totalOutput(usage);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cachedInput, ...(usage.cacheWrite > 0 ? { cache_write_tokens: usage.cacheWrite } : {}) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: input + output,
  };
}
