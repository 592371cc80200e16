import type { FinishReason } from '../../canonical/events.ts';

/** Gemini stops a candidate for these when its content (or the prompt) trips a filter. */
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

/**
 * A candidate's `finishReason` into ours; null while the candidate goes on (absent, or the
 * proto default FINISH_REASON_UNSPECIFIED). Other reasons (OTHER, LANGUAGE,
 * MALFORMED_FUNCTION_CALL, ...) read as a normal stop. Gemini has no tool-call reason: a candidate
 * that stopped after calling functions ends with STOP, see `withCalls`.
 */
export function readFinishReason(value: unknown): FinishReason | null {
  if (typeof value !== 'string' || value === '' || value === 'FINISH_REASON_UNSPECIFIED') return null;
  if (value === 'STOP') return 'stop';
  if (value === 'MAX_TOKENS') return 'length';
  return FILTERED.has(value) ? 'content_filter' : 'stop';
}

/** A normal stop of a candidate that called functions is a tool-call stop, as OpenAI reports it. */
export function withCalls(reason: FinishReason, calls: number): FinishReason {
  return reason === 'stop' && calls > 0 ? 'tool_calls' : reason;
}
