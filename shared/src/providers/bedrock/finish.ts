import type { FinishReason } from '../../canonical/events.ts';

/**
 * Converse stop reasons (MessageStopEvent.stopReason) into ours; null when there is none. A reason
 * this list does not know yet reads as a normal stop.
 */
export function readStopReason(value: unknown): FinishReason | null {
  if (typeof value !== 'string') return null;
  switch (value) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    // The model's output could not be used: the answer is broken, not finished.
    case 'malformed_model_output':
    case 'malformed_tool_use':
      return 'error';
    default:
      // end_turn, stop_sequence, and anything newer.
      return 'stop';
  }
}
