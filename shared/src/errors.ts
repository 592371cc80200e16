/**
 * Stable error codes of the /v1 surface. Clients get them OpenAI-shaped:
 * `{"error": {"message", "type", "code", "param"}}`; the status is part of the code's contract.
 */
export const ERROR_TABLE = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  key_disabled: { status: 401, type: 'authentication_error' },
  key_expired: { status: 401, type: 'authentication_error' },
  insufficient_balance: { status: 402, type: 'insufficient_quota' },
  plan_limit: { status: 402, type: 'insufficient_quota' },
  credit_limit_reached: { status: 402, type: 'insufficient_quota' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  tier_not_allowed: { status: 403, type: 'permission_error' },
  byok_not_configured: { status: 403, type: 'permission_error' },
  ip_not_allowed: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  concurrency_limit: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  /** The provider's address is one the gateway may not connect to (private, metadata, itself). */
  upstream_address_not_allowed: { status: 502, type: 'api_error' },
  fallback_exhausted: { status: 503, type: 'api_error' },
  no_channel_available: { status: 503, type: 'api_error' },
  unavailable: { status: 503, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly status: number;
  /** Sent as `Retry-After` (seconds) on 429 and 503 answers, when known. */
  retryAfterSeconds: number | null = null;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.status = ERROR_TABLE[code].status;
  }

  withRetryAfter(seconds: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(seconds));
    return this;
  }

  /** The OpenAI-shaped body. Messages are written by us, never copied from a provider. */
  toBody(): string {
    return JSON.stringify({
      error: { message: this.message, type: ERROR_TABLE[this.code].type, code: this.code, param: this.param },
    });
  }
}
