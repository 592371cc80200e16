import type { FinishReason } from '../../canonical/events.ts';

/**
 * Anthropic stop reasons into ours; null when there is none (or it is not a string). `pause_turn`
 * (a server tool's long turn paused) and reasons added later read as a normal stop;
 * `model_context_window_exceeded` is a cut like `max_tokens`.
 */
export function readStopReason(value: unknown): FinishReason | null {
  if (typeof value !== 'string') return null;
  switch (value) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** No request may hold a longer stop sequence (the Messages codec's bound): a longer one is not believed. */
const MAX_STOP_SEQUENCE_CHARS = 1_000;

/**
 * The stop sequence that ended an answer: Anthropic's `stop_sequence`, believed only beside the
 * `stop_sequence` stop reason; null otherwise.
 */
export function readStopSequence(stopReason: unknown, value: unknown): string | null {
  if (stopReason !== 'stop_sequence' || typeof value !== 'string' || value.length === 0 || value.length > MAX_STOP_SEQUENCE_CHARS) return null;
  return value;
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/**
 * Ours into Anthropic's: a normal stop is `stop_sequence` when the provider named the sequence
 * (`stopSequence`), else `end_turn`; a stream broken by the upstream (`error`) ends with an error
 * event as well.
 */
export function writeStopReason(reason: FinishReason, stopSequence?: string): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence';
    case 'error':
      return 'end_turn';
  }
}
