import { tokenCount, type Usage } from '../../canonical/usage.ts';
import { field } from '../json.ts';

/**
 * Anthropic's usage counts as far as one object reports them; a count the object lacks (or sends
 * malformed) is null. The buckets are already disjoint: `input_tokens` excludes both cache reads
 * and cache writes, and `output_tokens` includes thinking, which Anthropic does not report apart
 * (so it stays in `output`, priced as output).
 */
export interface AnthropicCounts {
  input: number | null;
  cachedInput: number | null;
  cacheWrite: number | null;
  output: number | null;
}

export function readAnthropicCounts(usage: unknown): AnthropicCounts {
  return {
    input: tokenCount(field(usage, 'input_tokens')),
    cachedInput: tokenCount(field(usage, 'cache_read_input_tokens')),
    cacheWrite: tokenCount(field(usage, 'cache_creation_input_tokens')),
    output: tokenCount(field(usage, 'output_tokens')),
  };
}

/** Later counts replace earlier ones field by field (a stream's message_delta is cumulative). */
export function mergeCounts(earlier: AnthropicCounts, later: AnthropicCounts): AnthropicCounts {
  return {
    input: later.input ?? earlier.input,
    cachedInput: later.cachedInput ?? earlier.cachedInput,
    cacheWrite: later.cacheWrite ?? earlier.cacheWrite,
    output: later.output ?? earlier.output,
  };
}

/** The vector, or null when no count at all was reported. */
export function usageOfCounts(counts: AnthropicCounts): Usage | null {
  if (counts.input === null && counts.cachedInput === null && counts.cacheWrite === null && counts.output === null) return null;
  return { input: counts.input ?? 0, cachedInput: counts.cachedInput ?? 0, cacheWrite: counts.cacheWrite ?? 0, output: counts.output ?? 0, reasoning: 0 };
}

/** A whole answer's usage object into the vector; null when it reports neither input nor output. */
export function readAnthropicUsage(usage: unknown): Usage | null {
  const counts = readAnthropicCounts(usage);
  if (counts.input === null || counts.output === null) return null;
  return usageOfCounts(counts);
}

/** The canonical vector as Anthropic reports it; reasoning tokens are output tokens there. */
export function writeAnthropicUsage(usage: Usage) {
  return {
    input_tokens: usage.input,
    cache_creation_input_tokens: usage.cacheWrite,
    cache_read_input_tokens: usage.cachedInput,
    output_tokens: usage.output + usage.reasoning,
  };
}
