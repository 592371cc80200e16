import type { GatewayError } from '@tollgate/shared';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

/**
 * Anthropic's error type for a status, the way Anthropic assigns its own. Every gateway error code
 * has a status, so every code maps, including codes added later: 402 (balance, plan) is a billing
 * error, 503 (nothing available to serve) overloaded, other 4xx invalid requests, other 5xx API errors.
 */
export function anthropicErrorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** `{"type":"error","error":{"type","message"}}`; messages are ours, never a provider's. */
export function anthropicError(error: GatewayError) {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
}
