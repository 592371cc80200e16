import { GatewayError } from '@tollgate/shared';

export interface ChatRequest {
  body: Record<string, unknown>;
  model: string;
  messages: unknown[];
  stream: boolean;
  /** The output cap the client set, if any. */
  maxTokens: number | null;
  /** The client asked for the final usage chunk of a stream. */
  wantsUsage: boolean;
}

/** Validates what the gateway itself relies on; everything else is the provider's to judge. */
export function parseChatRequest(raw: Buffer): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  }
  const fields = body as Record<string, unknown>;
  const { model, messages, stream } = fields;
  if (typeof model !== 'string' || model.length === 0) {
    throw new GatewayError('invalid_request', 'Missing required parameter: "model" must be a non-empty string.', 'model');
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new GatewayError('invalid_request', 'Missing required parameter: "messages" must be a non-empty array.', 'messages');
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw new GatewayError('invalid_request', '"stream" must be a boolean.', 'stream');
  }
  let maxTokens: number | null = null;
  for (const name of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new GatewayError('invalid_request', `"${name}" must be a positive integer.`, name);
    }
    maxTokens = Math.max(maxTokens ?? 0, value as number);
  }
  const options = fields.stream_options;
  const wantsUsage = typeof options === 'object' && options !== null && (options as { include_usage?: unknown }).include_usage === true;
  return { body: fields, model, messages, stream: stream === true, maxTokens, wantsUsage };
}
