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

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

/**
 * Ours into Anthropic's. The matched stop sequence is not kept canonically, so `stop` is always
 * `end_turn`; a stream broken by the upstream (`error`) ends with an error event as well.
 */
export function writeStopReason(reason: FinishReason): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
    case 'error':
      return 'end_turn';
  }
}
