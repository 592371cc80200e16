import { ERROR_TABLE, GatewayError, usage, type ErrorCode } from '@tollgate/shared';
import { describe, expect, it } from 'vitest';
import { anthropicMessagesCodec } from './index.ts';

const ctx = { requestId: 'req_1', includeUsage: true, model: 'claude-public' };

describe('Anthropic response rendering', () => {
  it('renders a whole answer as a message: thinking, text and tool_use blocks, stop reason and the billed usage with cache fields', () => {
    const body = anthropicMessagesCodec.renderResponse(
      {
        id: 'msg_01Up',
        model: 'claude-sonnet-4-5-20250929',
        created: 5,
        usage: usage({ input: 1, output: 1 }),
        choices: [
          {
            index: 0,
            text: 'Checking both.',
            reasoning: 'Two cities.',
            refusal: null,
            toolCalls: [
              { id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
              { id: 'call_B', name: 'get_weather', arguments: '{"city":' },
            ],
            finishReason: 'tool_calls',
            reasoningBlocks: [
              { type: 'thinking', text: 'Two cities.', signature: 'sig-1' },
              { type: 'redacted', data: 'opaque-1' },
            ],
          },
        ],
      },
      usage({ input: 57, cachedInput: 4096, cacheWrite: 1024, output: 150, reasoning: 13 }),
      ctx,
    );
    expect(body).toBe(
      JSON.stringify({
        id: 'msg_01Up',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'thinking', thinking: 'Two cities.', signature: 'sig-1' },
          { type: 'redacted_thinking', data: 'opaque-1' },
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
          // Arguments cut mid-JSON still make a tool_use block, with an empty input.
          { type: 'tool_use', id: 'call_B', name: 'get_weather', input: {} },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        // Anthropic counts reasoning inside output_tokens.
        usage: { input_tokens: 57, cache_creation_input_tokens: 1024, cache_read_input_tokens: 4096, output_tokens: 163 },
      }),
    );
  });

  it("renders another provider's answer: its own id or ours, unsigned reasoning, a refusal as text", () => {
    const body = JSON.parse(
      anthropicMessagesCodec.renderResponse(
        { id: '', model: 'gpt-x', created: 5, usage: null, choices: [{ index: 0, text: null, reasoning: 'hidden steps', refusal: "I can't help with that.", toolCalls: [], finishReason: 'content_filter' }] },
        usage({ input: 2, output: 3 }),
        ctx,
      ),
    );
    expect(body).toEqual({
      id: 'msg_req_1',
      type: 'message',
      role: 'assistant',
      model: 'gpt-x',
      content: [
        { type: 'thinking', thinking: 'hidden steps', signature: '' },
        { type: 'text', text: "I can't help with that." },
      ],
      stop_reason: 'refusal',
      stop_sequence: null,
      usage: { input_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 3 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    ['error', 'end_turn'],
  ] as const)('renders finish reason %s as stop_reason %s', (finishReason, stopReason) => {
    const body = JSON.parse(
      anthropicMessagesCodec.renderResponse({ id: 'm', model: 'x', created: 0, usage: null, choices: [{ index: 0, text: 'a', reasoning: null, refusal: null, toolCalls: [], finishReason }] }, usage({}), ctx),
    );
    expect(body.stop_reason).toBe(stopReason);
  });

  it('names the stop sequence that ended the answer, when the provider named it', () => {
    const render = (stopSequence?: string) =>
      JSON.parse(
        anthropicMessagesCodec.renderResponse(
          { id: 'msg_1', model: 'm', created: 5, usage: null, choices: [{ index: 0, text: 'Paris', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop', ...(stopSequence !== undefined ? { stopSequence } : {}) }] },
          usage({ input: 2, output: 3 }),
          ctx,
        ),
      ) as { stop_reason: unknown; stop_sequence: unknown };
    expect([render('###'), render()].map((b) => [b.stop_reason, b.stop_sequence])).toEqual([
      ['stop_sequence', '###'],
      ['end_turn', null],
    ]);
  });

  it('renders an answer without choices as an empty message', () => {
    const body = JSON.parse(anthropicMessagesCodec.renderResponse({ id: 'm', model: 'x', created: 0, usage: null, choices: [] }, usage({}), ctx));
    expect([body.content, body.stop_reason]).toEqual([[], 'end_turn']);
  });
});

describe('Anthropic error bodies', () => {
  it.each<[ErrorCode, number, string]>([
    ['invalid_request', 400, 'invalid_request_error'],
    ['invalid_json', 400, 'invalid_request_error'],
    ['unsupported_parameter', 400, 'invalid_request_error'],
    ['invalid_api_key', 401, 'authentication_error'],
    ['key_disabled', 401, 'authentication_error'],
    ['key_expired', 401, 'authentication_error'],
    ['insufficient_balance', 402, 'billing_error'],
    ['plan_limit', 402, 'billing_error'],
    ['model_not_allowed', 403, 'permission_error'],
    ['tier_not_allowed', 403, 'permission_error'],
    ['byok_not_configured', 403, 'permission_error'],
    ['not_found', 404, 'not_found_error'],
    ['model_not_found', 404, 'not_found_error'],
    ['method_not_allowed', 405, 'invalid_request_error'],
    ['body_too_large', 413, 'request_too_large'],
    ['rate_limited', 429, 'rate_limit_error'],
    ['concurrency_limit', 429, 'rate_limit_error'],
    ['internal_error', 500, 'api_error'],
    ['upstream_error', 502, 'api_error'],
    ['fallback_exhausted', 503, 'overloaded_error'],
    ['no_channel_available', 503, 'overloaded_error'],
    ['unavailable', 503, 'overloaded_error'],
    ['upstream_timeout', 504, 'timeout_error'],
  ])('renders %s (HTTP %i) as an Anthropic %s', (code, status, type) => {
    const error = new GatewayError(code, `Message for ${code}.`);
    expect(error.status).toBe(status);
    expect(anthropicMessagesCodec.renderError(error)).toBe(JSON.stringify({ type: 'error', error: { type, message: `Message for ${code}.` } }));
  });

  it('maps every error code the gateway has to one of Anthropic’s error types', () => {
    const types = new Set(['invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'request_too_large', 'rate_limit_error', 'api_error', 'timeout_error', 'overloaded_error']);
    const rendered = (Object.keys(ERROR_TABLE) as ErrorCode[]).map((code) => JSON.parse(anthropicMessagesCodec.renderError(new GatewayError(code, 'x'))).error.type);
    expect(rendered.filter((t) => !types.has(t))).toEqual([]);
  });
});
