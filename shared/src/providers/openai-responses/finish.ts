import type { FinishReason } from '../../canonical/events.ts';

/**
 * How a response ended, from its `status` and `incomplete_details.reason`. A completed response
 * that called functions ended for its tool calls; an incomplete one ran out of output tokens unless
 * it says a content filter stopped it; a failed or cancelled one is an error.
 */
export function readResponseFinish(status: unknown, incompleteReason: unknown, calledTools: boolean): FinishReason {
  switch (status) {
    case 'incomplete':
      return incompleteReason === 'content_filter' ? 'content_filter' : 'length';
    case 'failed':
    case 'cancelled':
      return 'error';
    default:
      return calledTools ? 'tool_calls' : 'stop';
  }
}

export type ResponseStatus = 'completed' | 'incomplete' | 'failed';

/** A canonical finish reason as a response's `status` and `incomplete_details`. */
export function writeResponseFinish(reason: FinishReason): { status: ResponseStatus; incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null } {
  switch (reason) {
    case 'length':
      return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
    case 'content_filter':
      return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
    case 'error':
      return { status: 'failed', incomplete_details: null };
    default:
      return { status: 'completed', incomplete_details: null };
  }
}
