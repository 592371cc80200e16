/**
 * The usage vector: token counts of one request, in disjoint buckets so that a cost is a plain sum
 * of bucket × rate and nothing is counted twice. Providers report overlapping totals (OpenAI's
 * prompt_tokens includes cached tokens, completion_tokens includes reasoning tokens); adapters
 * split them into these buckets.
 *
 * Every count comes from outside (an upstream's JSON) and is hostile until bounded: counts are
 * non-negative safe integers no larger than MAX_TOKEN_COUNT, stored as 64-bit in Postgres.
 */
export interface Usage {
  /** Input tokens billed at the input rate: not read from or written to a prompt cache. */
  input: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInput: number;
  /** Input tokens written to the provider's prompt cache. */
  cacheWrite: number;
  /** Output tokens that are not reasoning. */
  output: number;
  /** Output tokens spent on reasoning (hidden or shown thinking). */
  reasoning: number;
}

export const USAGE_FIELDS = ['input', 'cachedInput', 'cacheWrite', 'output', 'reasoning'] as const satisfies readonly (keyof Usage)[];
export type UsageField = (typeof USAGE_FIELDS)[number];

/** 10^12 tokens: far beyond any real request, far inside 2^53 and a bigint column. */
export const MAX_TOKEN_COUNT = 1_000_000_000_000;

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({ input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 });

export function usage(parts: Partial<Usage>): Usage {
  return { ...ZERO_USAGE, ...parts };
}

/**
 * Reads a token count an upstream sent. Anything that is not a non-negative integer is absent
 * (null); a count past MAX_TOKEN_COUNT is clamped to it, so the bill stays computable and the
 * settlement's cap (never more than the hold) decides what is charged.
 */
export function tokenCount(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) return null;
  return Math.min(value, MAX_TOKEN_COUNT);
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input: Math.min(MAX_TOKEN_COUNT, a.input + b.input),
    cachedInput: Math.min(MAX_TOKEN_COUNT, a.cachedInput + b.cachedInput),
    cacheWrite: Math.min(MAX_TOKEN_COUNT, a.cacheWrite + b.cacheWrite),
    output: Math.min(MAX_TOKEN_COUNT, a.output + b.output),
    reasoning: Math.min(MAX_TOKEN_COUNT, a.reasoning + b.reasoning),
  };
}

/** All input tokens, however they were billed (OpenAI's prompt_tokens). */
export function totalInput(u: Usage): number {
  return u.input + u.cachedInput + u.cacheWrite;
}

/** All output tokens, reasoning included (OpenAI's completion_tokens). */
export function totalOutput(u: Usage): number {
  return u.output + u.reasoning;
}
