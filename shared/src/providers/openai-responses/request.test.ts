import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatMessage, type ChatRequest } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import type { UpstreamTarget } from '../adapter.ts';
import { adapterFor } from '../registry.ts';
import { apiKeyTarget, chatRequest as oneMessage, bodyJson } from '../testing/requests.ts';
import { openAIResponsesAdapter } from './adapter.ts';

const chatRequest = (overrides: Partial<ChatRequest> = {}): ChatRequest => oneMessage({ model: 'resale/gpt-4.1', ...overrides });

const target = (overrides: Partial<UpstreamTarget> = {}): UpstreamTarget => apiKeyTarget('openai-responses', 'https://api.openai.com/v1', 'gpt-4.1-2025-04-14', 'sk-test-key-0123', overrides);

const bodyOf = (request: ChatRequest): Record<string, unknown> => bodyJson(openAIResponsesAdapter.prepareChat(request, target())) as Record<string, unknown>;
const PLAIN = { model: 'gpt-4.1-2025-04-14', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] }], store: false };

describe('Responses adapter: prepareChat request line and headers', () => {
  it('posts JSON to <base path>/responses as a bearer of the credential; channel headers cannot replace ours', () => {
    const prepared = openAIResponsesAdapter.prepareChat(chatRequest({ stream: true }), target({ extraHeaders: { 'OpenAI-Organization': 'org-1', Authorization: 'Bearer sk-other', 'API-KEY': 'x' } }));
    expect({ ...prepared, body: null }).toEqual({
      method: 'POST',
      origin: 'https://api.openai.com',
      path: '/v1/responses',
      headers: {
        'OpenAI-Organization': 'org-1',
        authorization: 'Bearer sk-test-key-0123',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'accept-encoding': 'identity',
      },
      body: null,
    });
  });

  it('is the adapter of its protocol, speaks the Responses format natively, and signs nothing', () => {
    expect(adapterFor('openai-responses')).toBe(openAIResponsesAdapter);
    expect([openAIResponsesAdapter.protocol, openAIResponsesAdapter.nativeFormat, openAIResponsesAdapter.sign]).toEqual(['openai-responses', 'openai-responses', undefined]);
  });

  it('refuses a credential that is not an API key', () => {
    const azure = { kind: 'azure', endpoint: 'https://x.openai.azure.com', apiKey: 'k'.repeat(32), apiVersion: '2024-10-21', deployment: null } as const;
    expect(() => openAIResponsesAdapter.prepareChat(chatRequest(), target({ credential: azure }))).toThrow(TypeError);
  });
});

describe('Responses adapter: prepareChat body', () => {
  it('sends the upstream model, the input and store: false for a plain request, streamed or not', () => {
    expect(bodyOf(chatRequest())).toEqual(PLAIN);
    expect(bodyOf(chatRequest({ stream: true, includeUsage: true }))).toEqual({ ...PLAIN, stream: true });
  });

  it('makes the opening system and developer messages the instructions; later ones stay in the input', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in ' }, { type: 'text', text: 'French.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }], name: 'ann' },
      { role: 'system', content: [{ type: 'text', text: 'Now in English.' }] },
    ];
    expect(bodyOf(chatRequest({ messages }))).toEqual({
      model: 'gpt-4.1-2025-04-14',
      instructions: 'Be brief.\n\nAnswer in French.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
        { type: 'message', role: 'system', content: 'Now in English.' },
      ],
      store: false,
    });
  });

  it('sends images with their detail, auto when none was given', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', url: 'https://example.com/a.png', detail: null }, { type: 'image', url: 'data:image/png;base64,iVBORw0K', detail: 'low' }], name: null },
    ];
    expect(bodyOf(chatRequest({ messages })).input).toEqual([
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0K', detail: 'low' },
        ],
      },
    ]);
  });

  it('sends a tool round trip as function_call and function_call_output items with the same call ids', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Weather and time in Paris?' }], name: null },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Checking.' }],
        toolCalls: [
          { id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_B', name: 'get_time', arguments: '{}' },
        ],
        refusal: null,
        name: null,
        reasoningBlocks: [{ type: 'thinking', text: 'hidden', signature: 'sig' }],
      },
      { role: 'tool', toolCallId: 'toolu_01A', content: [{ type: 'text', text: '18°C' }] },
      { role: 'tool', toolCallId: 'call_B', content: [{ type: 'text', text: '14:' }, { type: 'text', text: '05' }], isError: true },
      { role: 'assistant', content: [], toolCalls: [], refusal: 'I cannot say more.', name: null },
    ];
    expect(bodyOf(chatRequest({ messages })).input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather and time in Paris?' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
      { type: 'function_call', call_id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_B', name: 'get_time', arguments: '{}' },
      { type: 'function_call_output', call_id: 'toolu_01A', output: '18°C' },
      { type: 'function_call_output', call_id: 'call_B', output: '14:05' },
      { type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot say more.' }] },
    ]);
  });

  it('sends function tools flat, non-strict unless the client asked for strict, and the tool choice', () => {
    const body = bodyOf(
      chatRequest({
        tools: [
          { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
          { name: 'ping', description: null, parameters: null, strict: null },
        ],
        toolChoice: { type: 'function', name: 'get_weather' },
        parallelToolCalls: false,
      }),
    );
    expect([body.tools, body.tool_choice, body.parallel_tool_calls]).toEqual([
      [
        { type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
        { type: 'function', name: 'ping', parameters: { type: 'object', properties: {} }, strict: false },
      ],
      { type: 'function', name: 'get_weather' },
      false,
    ]);
    for (const type of ['auto', 'none', 'required'] as const) expect(bodyOf(chatRequest({ toolChoice: { type } })).tool_choice).toBe(type);
  });

  it('sends response formats as text.format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    expect(bodyOf(chatRequest({ responseFormat: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'The answer' } })).text).toEqual({
      format: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'The answer' },
    });
    expect(bodyOf(chatRequest({ responseFormat: { type: 'json_schema', name: 'answer', schema, strict: null, description: null } })).text).toEqual({ format: { type: 'json_schema', name: 'answer', schema } });
    expect(bodyOf(chatRequest({ responseFormat: { type: 'json_schema', name: 'answer', schema: null, strict: null, description: null } })).text).toEqual({ format: { type: 'json_object' } });
    expect(bodyOf(chatRequest({ responseFormat: { type: 'json_object' } })).text).toEqual({ format: { type: 'json_object' } });
    expect(bodyOf(chatRequest({ responseFormat: { type: 'text' } })).text).toEqual({ format: { type: 'text' } });
  });

  it('sends the output cap (at least the API’s minimum of 16), temperature, top_p, reasoning and user; drops hints it has no field for', () => {
    const body = bodyOf(
      chatRequest({
        maxOutputTokens: 300,
        sampling: { temperature: 0.2, topP: 0.9, frequencyPenalty: 1, presencePenalty: 1, seed: 7, stop: [], logprobs: true, topLogprobs: 3, logitBias: { '1': 5 } },
        reasoningEffort: 'high',
        reasoningSummary: 'auto',
        user: 'user-123',
      }),
    );
    expect(body).toEqual({ ...PLAIN, max_output_tokens: 300, temperature: 0.2, top_p: 0.9, reasoning: { effort: 'high', summary: 'auto' }, user: 'user-123' });
    expect(bodyOf(chatRequest({ maxOutputTokens: 5 })).max_output_tokens).toBe(16);
    expect(bodyOf(chatRequest({ reasoningEffort: 'minimal' })).reasoning).toEqual({ effort: 'minimal' });
    expect(bodyOf(chatRequest({ reasoningSummary: 'detailed' })).reasoning).toEqual({ summary: 'detailed' });
  });

  it('never forwards fields it does not know', () => {
    const request = { ...chatRequest(), store: true, previous_response_id: 'resp_1', background: true, service_tier: 'priority' } as ChatRequest;
    expect(bodyOf(request)).toEqual(PLAIN);
  });

  it('refuses n above 1 and stop sequences, which the Responses API cannot honour', () => {
    expect(() => bodyOf(chatRequest({ n: 2 }))).toThrow(new GatewayError('unsupported_parameter', 'The OpenAI Responses API returns one answer per request: "n" must be 1.', 'n'));
    expect(() => bodyOf(chatRequest({ sampling: { ...NO_SAMPLING, stop: ['END'] } }))).toThrow(new GatewayError('unsupported_parameter', 'The OpenAI Responses API has no stop sequences: "stop" must be empty.', 'stop'));
  });
});
