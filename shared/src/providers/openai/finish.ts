import type { FinishReason } from '../../canonical/events.ts';

/** OpenAI finish reasons into ours; anything unknown (a provider's own) reads as a normal stop. */
export function readFinishReason(value: unknown): FinishReason | null {
  switch (value) {
    case null:
    case undefined:
      return null;
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function writeFinishReason(reason: FinishReason): string {
  // OpenAI has no "error" reason; a stream cut by an upstream failure ends with an error event too.
  return reason === 'error' ? 'stop' : reason;
}
