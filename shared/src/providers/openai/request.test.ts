import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatMessage, type ChatRequest } from '../../canonical/chat.ts';
import type { UpstreamTarget } from '../adapter.ts';
import { PROVIDERS, type ProviderId } from '../catalog.ts';
import { apiKeyTarget, chatRequest as oneMessage, bodyJson } from '../testing/requests.ts';
import { openAIAdapter } from './adapter.ts';

const chatRequest = (overrides: Partial<ChatRequest> = {}): ChatRequest => oneMessage({ model: 'resale/gpt-4o', ...overrides });

const target = (overrides: Partial<UpstreamTarget> = {}): UpstreamTarget => apiKeyTarget('openai', 'https://api.openai.com/v1', 'gpt-4o-2024-08-06', 'sk-test-key-0123', overrides);

const bodyOf = (request: ChatRequest, to: UpstreamTarget = target()): Record<string, unknown> =>
  bodyJson(openAIAdapter.prepareChat(request, to)) as Record<string, unknown>;

describe('OpenAI adapter: prepareChat request line and headers', () => {
  it('posts JSON to <base path>/chat/completions on the target origin, as a bearer of the credential', () => {
    const prepared = openAIAdapter.prepareChat(chatRequest(), target());
    expect({ ...prepared, body: null }).toEqual({
      method: 'POST',
      origin: 'https://api.openai.com',
      path: '/v1/chat/completions',
      headers: {
        authorization: 'Bearer sk-test-key-0123',
        'content-type': 'application/json',
        accept: 'application/json',
        'accept-encoding': 'identity',
      },
      body: null,
    });
  });

  it('asks for an event stream when streaming, still uncompressed', () => {
    const prepared = openAIAdapter.prepareChat(chatRequest({ stream: true }), target());
    expect(prepared.headers.accept).toBe('text/event-stream');
    expect(prepared.headers['accept-encoding']).toBe('identity');
  });

  it('adds the channel extra headers, which cannot replace ours in any letter case', () => {
    const prepared = openAIAdapter.prepareChat(
      chatRequest({ stream: true }),
      target({
        extraHeaders: {
          'HTTP-Referer': 'https://example.com',
          'X-Title': 'Example',
          Authorization: 'Bearer sk-other',
          'Accept-Encoding': 'gzip',
          authorization: 'Bearer sk-other-2',
          'CONTENT-TYPE': 'text/plain',
          Accept: 'application/json',
        },
      }),
    );
    expect(prepared.headers).toEqual({
      'HTTP-Referer': 'https://example.com',
      'X-Title': 'Example',
      authorization: 'Bearer sk-test-key-0123',
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'accept-encoding': 'identity',
    });
  });

  it('works under a base path of any depth', () => {
    expect(openAIAdapter.prepareChat(chatRequest(), target({ origin: 'https://openrouter.ai', basePath: '/api/v1', provider: 'openrouter' })).path).toBe('/api/v1/chat/completions');
    expect(openAIAdapter.prepareChat(chatRequest(), target({ origin: 'http://127.0.0.1:9000', basePath: '' })).path).toBe('/chat/completions');
  });

  it('refuses a credential that is not an API key', () => {
    const aws = { kind: 'aws', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40), region: 'us-east-1', sessionToken: null } as const;
    expect(() => openAIAdapter.prepareChat(chatRequest(), target({ credential: aws }))).toThrow(TypeError);
  });

  it('signs nothing: the credential is a header', () => {
    expect(openAIAdapter.sign).toBeUndefined();
    expect(openAIAdapter.protocol).toBe('openai');
    expect(openAIAdapter.nativeFormat).toBe('openai-chat');
  });
});

describe('OpenAI adapter: prepareChat body', () => {
  it('sends only the upstream model and the messages for a plain request', () => {
    expect(bodyOf(chatRequest())).toEqual({ model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('never forwards fields it does not know, at the top or inside messages and tools', () => {
    const request = {
      ...chatRequest({
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }], name: null, api_base: 'x' } as unknown as ChatMessage],
        tools: [{ name: 'f', description: null, parameters: null, strict: null, url: 'https://evil.example' } as unknown as ChatRequest['tools'][number]],
      }),
      service_tier: 'priority',
      store: true,
      api_base: 'https://evil.example',
      metadata: { a: 1 },
    } as ChatRequest;
    expect(bodyOf(request)).toEqual({ model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'function', function: { name: 'f' } }] });
  });

  it('caps output with max_completion_tokens for OpenAI itself and max_tokens for compatible providers', () => {
    expect(bodyOf(chatRequest({ maxOutputTokens: 256 }))).toEqual({ model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 256 });
    const compatible = [...PROVIDERS.values()].filter((p) => p.protocol === 'openai' && p.id !== 'openai').map((p) => p.id);
    expect(compatible.length).toBe(14);
    for (const provider of compatible) {
      expect(bodyOf(chatRequest({ maxOutputTokens: 256 }), target({ provider: provider as ProviderId })), provider).toEqual({
        model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 256,
      });
    }
  });

  it('always asks for usage on streams, whether the client did or not', () => {
    for (const includeUsage of [false, true]) {
      expect(bodyOf(chatRequest({ stream: true, includeUsage }))).toEqual({
        model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true },
      });
    }
  });

  it('renders every sampling parameter, n, reasoning effort and user', () => {
    const body = bodyOf(
      chatRequest({
        n: 3,
        sampling: { temperature: 0, topP: 0.9, frequencyPenalty: -0.5, presencePenalty: 1.5, seed: 42, stop: ['\n\n', 'END'], logprobs: true, topLogprobs: 5, logitBias: { '50256': -100 } },
        reasoningEffort: 'high',
        user: 'user-123',
      }),
    );
    expect(body).toEqual({
      model: 'gpt-4o-2024-08-06',
      messages: [{ role: 'user', content: 'Hi' }],
      n: 3,
      temperature: 0,
      top_p: 0.9,
      frequency_penalty: -0.5,
      presence_penalty: 1.5,
      seed: 42,
      stop: ['\n\n', 'END'],
      logprobs: true,
      top_logprobs: 5,
      logit_bias: { '50256': -100 },
      reasoning_effort: 'high',
      user: 'user-123',
    });
  });

  it('renders false and zero settings instead of dropping them', () => {
    expect(bodyOf(chatRequest({ parallelToolCalls: false, sampling: { ...NO_SAMPLING, stop: [], logprobs: false, seed: 0 } }))).toEqual({
      model: 'gpt-4o-2024-08-06', messages: [{ role: 'user', content: 'Hi' }], seed: 0, logprobs: false, parallel_tool_calls: false,
    });
  });

  it('renders every message role in OpenAI shape', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
      { role: 'developer', content: [{ type: 'text', text: 'Part one. ' }, { type: 'text', text: 'Part two.' }], name: 'ops' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }], name: 'alice' },
      {
        role: 'assistant',
        content: [],
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' },
          { id: 'call_2', name: 'get_time', arguments: '{}' },
        ],
        refusal: null,
        name: null,
      },
      { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '{"temp":21}' }] },
      { role: 'tool', toolCallId: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'It is 21°C at noon.' }], toolCalls: [], refusal: null, name: 'bot' },
      { role: 'assistant', content: [], toolCalls: [], refusal: 'I cannot help with that.', name: null },
    ];
    expect(bodyOf(chatRequest({ messages })).messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Part one. Part two.', name: 'ops' },
      { role: 'user', content: 'Weather in Paris?', name: 'alice' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
      { role: 'assistant', content: 'It is 21°C at noon.', name: 'bot' },
      { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
    ]);
  });

  it('renders images and mixed content as content parts', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', detail: null },
        ],
        name: null,
      },
      { role: 'user', content: [{ type: 'image', url: 'https://example.com/dog.png', detail: 'high' }], name: null },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], name: null },
    ];
    expect(bodyOf(chatRequest({ messages })).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/dog.png', detail: 'high' } }] },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
    ]);
  });

  it('renders tools, each tool choice and parallel tool calls', () => {
    const tools: ChatRequest['tools'] = [
      { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] }, strict: true },
      { name: 'ping', description: null, parameters: null, strict: null },
    ];
    const body = bodyOf(chatRequest({ tools, toolChoice: { type: 'function', name: 'get_weather' }, parallelToolCalls: true }));
    expect(body).toEqual({
      model: 'gpt-4o-2024-08-06',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] }, strict: true } },
        { type: 'function', function: { name: 'ping' } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: true,
    });
    expect((['auto', 'none', 'required'] as const).map((type) => bodyOf(chatRequest({ tools, toolChoice: { type } })).tool_choice)).toEqual(['auto', 'none', 'required']);
  });

  it('renders each response format', () => {
    const format = (responseFormat: ChatRequest['responseFormat']): unknown => bodyOf(chatRequest({ responseFormat })).response_format;
    expect(format({ type: 'text' })).toEqual({ type: 'text' });
    expect(format({ type: 'json_object' })).toEqual({ type: 'json_object' });
    expect(format({ type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { n: { type: 'integer' } } }, strict: true, description: 'The answer' })).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema: { type: 'object', properties: { n: { type: 'integer' } } }, strict: true, description: 'The answer' },
    });
    expect(format({ type: 'json_schema', name: 'loose', schema: null, strict: null, description: null })).toEqual({ type: 'json_schema', json_schema: { name: 'loose' } });
  });

  it('sends the target upstream model, never the client model string with its tier', () => {
    expect(bodyOf(chatRequest({ model: 'cheap/gpt-4o' }), target({ upstreamModel: 'gpt-4o-mini' })).model).toBe('gpt-4o-mini');
  });
});

describe('OpenAI adapter: the client\'s messages bytes', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Caf\u00e9 report' }], name: null },
  ];
  const sent = '[{"role":"system","content":"Be terse."}, {"role":"user","content":"Caf\\u00e9 report"}]';

  it('sends them as they came when its own rendering is the same JSON, and the same body either way', () => {
    const source = { value: JSON.parse(sent) as unknown, bytes: new TextEncoder().encode(sent) };
    const prepared = openAIAdapter.prepareChat(chatRequest({ messages, maxOutputTokens: 9, sourceMessages: source }), target());
    expect(prepared.body).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(prepared.body as Uint8Array)).toBe(`{"messages":${sent},"model":"gpt-4o-2024-08-06","max_completion_tokens":9}`);
    expect(bodyJson(prepared)).toEqual(bodyOf(chatRequest({ messages, maxOutputTokens: 9 })));
  });

  it('renders them itself when the client\'s differ from its rendering', () => {
    const withExtra = '[{"role":"system","content":"Be terse.","x":1}, {"role":"user","content":"Caf\\u00e9 report"}]';
    const source = { value: JSON.parse(withExtra) as unknown, bytes: new TextEncoder().encode(withExtra) };
    const prepared = openAIAdapter.prepareChat(chatRequest({ messages, sourceMessages: source }), target());
    expect(prepared.body).toBe(JSON.stringify({ model: 'gpt-4o-2024-08-06', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Café report' }] }));
  });
});
