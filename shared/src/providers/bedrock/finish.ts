import type { FinishReason } from '../../canonical/events.ts';
import { readStopSequence as readAnthropicStopSequence } from '../anthropic/finish.ts';
import { field } from '../json.ts';

/**
 * The stop sequence that ended an answer, beside the `stop_sequence` stop reason: Converse carries
 * it only among the model's own fields (`additionalModelResponseFields`, asked for with
 * `/stop_sequence`), where Anthropic models put their `stop_sequence`; null when it is not there.
 */
export function readStopSequence(stopReason: unknown, additionalFields: unknown): string | null {
  return readAnthropicStopSequence(stopReason, field(additionalFields, 'stop_sequence'));
}

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
