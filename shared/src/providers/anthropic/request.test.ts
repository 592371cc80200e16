import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatRequest, type ThinkingConfig, type ToolChoice } from '../../canonical/chat.ts';
import type { UpstreamTarget } from '../adapter.ts';
import { adapterFor } from '../registry.ts';
import { apiKeyTarget, chatRequest, bodyJson } from '../testing/requests.ts';
import { anthropicAdapter } from './adapter.ts';

const target: UpstreamTarget = apiKeyTarget('anthropic', 'https://api.anthropic.com/v1', 'claude-sonnet-4-5-20250929', 'sk-ant-api03-test-key', {
  extraHeaders: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14', 'x-api-key': 'must-not-win' },
});

const base: ChatRequest = chatRequest({ model: 'resale/claude' });

const bodyOf = (request: ChatRequest): Record<string, unknown> => bodyJson(anthropicAdapter.prepareChat(request, target));

describe('Anthropic adapter: prepareChat', () => {
  it('is the registered adapter of the anthropic protocol, passthrough for Messages clients', () => {
    expect(adapterFor('anthropic')).toBe(anthropicAdapter);
    expect(anthropicAdapter.protocol).toBe('anthropic');
    expect(anthropicAdapter.nativeFormat).toBe('anthropic-messages');
  });

  it('posts to {basePath}/messages with the key header and the pinned API version', () => {
    const prepared = anthropicAdapter.prepareChat({ ...base, stream: true }, target);
    expect({ ...prepared, body: null }).toEqual({
      method: 'POST',
      origin: 'https://api.anthropic.com',
      path: '/v1/messages',
      headers: {
        'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14',
        'x-api-key': 'sk-ant-api03-test-key',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'accept-encoding': 'identity',
      },
      body: null,
    });
    expect(anthropicAdapter.prepareChat(base, target).headers.accept).toBe('application/json');
  });

  it('refuses a credential that is not an API key', () => {
    const aws: UpstreamTarget = { ...target, credential: { kind: 'aws', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 's'.repeat(40), region: 'us-east-1', sessionToken: null } };
    expect(() => anthropicAdapter.prepareChat(base, aws)).toThrow(TypeError);
  });

  it('translates a rich request exactly', () => {
    const request: ChatRequest = {
      model: 'resale/claude',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: '<the manual>', cacheControl: { type: 'ephemeral' } }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' }, { type: 'image', url: 'https://img.test/paris.jpg', detail: null }], name: 'ann' },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'Checking.' }],
          toolCalls: [
            { id: 'call_A1', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'toolu_B2', name: 'get_time', arguments: '', cacheControl: { type: 'ephemeral' } },
          ],
          refusal: null,
          name: null,
          reasoningBlocks: [
            { type: 'thinking', text: 'Two tools.', signature: 'sig-1' },
            // Reasoning from a provider that does not sign it cannot go back to Anthropic.
            { type: 'thinking', text: 'unsigned', signature: null },
            { type: 'redacted', data: 'opaque-1' },
          ],
        },
        { role: 'tool', toolCallId: 'call_A1', content: [{ type: 'text', text: '18°C' }] },
        { role: 'tool', toolCallId: 'toolu_B2', content: [{ type: 'text', text: 'timed out' }], isError: true, cacheControl: { type: 'ephemeral' } },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }, { type: 'text', text: '' }], name: null },
      ],
      tools: [
        { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true },
        { name: 'get_time', description: null, parameters: null, strict: false, cacheControl: { type: 'ephemeral' } },
      ],
      toolChoice: { type: 'required' },
      parallelToolCalls: false,
      responseFormat: { type: 'json_object' },
      sampling: { ...NO_SAMPLING, temperature: 1.4, topP: 0.9, stop: ['END'], seed: 7, frequencyPenalty: 0.5, logprobs: true },
      maxOutputTokens: 2000,
      n: 1,
      stream: true,
      includeUsage: true,
      reasoningEffort: 'minimal',
      user: 'user-42',
    };
    expect(anthropicAdapter.prepareChat(request, target).body).toBe(
      JSON.stringify({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 2000,
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: '<the manual>', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Answer in French.' },
          { type: 'text', text: 'Respond with only a JSON object, with no other text and no code fences.' },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://img.test/paris.jpg' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Two tools.', signature: 'sig-1' },
              { type: 'redacted_thinking', data: 'opaque-1' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'call_A1', name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_B2', name: 'get_time', input: {}, cache_control: { type: 'ephemeral' } },
            ],
          },
          {
            // Both results and the next user message make one user turn, results first, ids unchanged.
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_A1', content: [{ type: 'text', text: '18°C' }] },
              { type: 'tool_result', tool_use_id: 'toolu_B2', content: [{ type: 'text', text: 'timed out' }], is_error: true, cache_control: { type: 'ephemeral' } },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
        metadata: { user_id: 'user-42' },
        stop_sequences: ['END'],
        // Anthropic's temperature scale ends at 1; top_p is left out beside a temperature.
        temperature: 1,
        tools: [
          { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true },
          { name: 'get_time', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral' } },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        // No thinking for the portable effort: Anthropic refuses it with a temperature or a forced tool (see thinking.test.ts).
        stream: true,
      }),
    );
  });

  it('sends top_p only without a temperature, which current models refuse together', () => {
    expect(bodyOf({ ...base, sampling: { ...NO_SAMPLING, topP: 0.8 } })).toMatchObject({ top_p: 0.8 });
    expect(bodyOf({ ...base, sampling: { ...NO_SAMPLING, topP: 0.8 } })).not.toHaveProperty('temperature');
    expect(bodyOf({ ...base, sampling: { ...NO_SAMPLING, topP: 0.8, temperature: 0 } })).toMatchObject({ temperature: 0 });
    expect(bodyOf({ ...base, sampling: { ...NO_SAMPLING, topP: 0.8, temperature: 0 } })).not.toHaveProperty('top_p');
  });

  it('always sends max_tokens, 4096 when the client set no cap', () => {
    expect(bodyOf(base)).toEqual({ model: 'claude-sonnet-4-5-20250929', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] });
    expect(bodyOf({ ...base, maxOutputTokens: 77 }).max_tokens).toBe(77);
  });

  it.each<[string, ToolChoice | null, boolean | null, unknown]>([
    ['auto', { type: 'auto' }, null, { type: 'auto' }],
    ['none', { type: 'none' }, false, { type: 'none' }],
    ['required', { type: 'required' }, true, { type: 'any' }],
    ['a named function', { type: 'function', name: 'f' }, null, { type: 'tool', name: 'f' }],
    ['a named function, one call at a time', { type: 'function', name: 'f' }, false, { type: 'tool', name: 'f', disable_parallel_tool_use: true }],
    ['no choice, one call at a time', null, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['no choice', null, null, undefined],
  ])('maps tool choice: %s', (_what, toolChoice, parallelToolCalls, expected) => {
    const tools = [{ name: 'f', description: null, parameters: { type: 'object' }, strict: null }];
    expect(bodyOf({ ...base, tools, toolChoice, parallelToolCalls }).tool_choice).toEqual(expected);
  });

  it('sends no tool choice without tools', () => {
    expect(bodyOf({ ...base, toolChoice: { type: 'required' }, parallelToolCalls: false })).not.toHaveProperty('tool_choice');
  });

  it.each<[string, ThinkingConfig, unknown, unknown]>([
    ['a fixed budget with an effort', { type: 'enabled', budgetTokens: 1500, effort: 'max', display: null }, { type: 'enabled', budget_tokens: 1500 }, { effort: 'max' }],
    ['adaptive, summarised', { type: 'adaptive', budgetTokens: null, effort: null, display: 'summarized' }, { type: 'adaptive', display: 'summarized' }, undefined],
    ['disabled', { type: 'disabled', budgetTokens: null, effort: null, display: null }, { type: 'disabled' }, undefined],
    ['an effort alone', { type: null, budgetTokens: null, effort: 'xhigh', display: null }, undefined, { effort: 'xhigh' }],
  ])("sends the client's own thinking settings as they were: %s", (_what, thinking, expectedThinking, expectedOutputConfig) => {
    // The client's Anthropic settings win over the portable effort derived from them.
    const body = bodyOf({ ...base, maxOutputTokens: 4000, thinking, reasoningEffort: 'high' });
    expect(body.thinking).toEqual(expectedThinking);
    expect(body.output_config).toEqual(expectedOutputConfig);
  });

  it('sends a strict JSON schema as output_config.format, a loose one as a system instruction', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false };
    const strict = bodyOf({ ...base, responseFormat: { type: 'json_schema', name: 's', schema, strict: true, description: null } });
    expect([strict.output_config, strict.system]).toEqual([{ format: { type: 'json_schema', schema } }, undefined]);
    const loose = bodyOf({ ...base, responseFormat: { type: 'json_schema', name: 's', schema, strict: null, description: null } });
    expect([loose.output_config, loose.system]).toEqual([
      undefined,
      [{ type: 'text', text: `Respond with only a JSON value that conforms to this JSON Schema, with no other text and no code fences:\n${JSON.stringify(schema)}` }],
    ]);
    const text = bodyOf({ ...base, responseFormat: { type: 'text' } });
    expect([text.output_config, text.system]).toEqual([undefined, undefined]);
  });

  it('never throws on tool arguments that are not a JSON object: the call still pairs with its result', () => {
    const calls = ['not json', '[1,2]', '"text"', 'null', '{"a":', '   '].map((args, i) => ({ id: `call_${i}`, name: 'f', arguments: args }));
    const body = bodyOf({ ...base, messages: [...base.messages, { role: 'assistant', content: [], toolCalls: calls, refusal: null, name: null }] });
    expect((body.messages as { content: { input?: unknown }[] }[])[1]!.content.map((b) => b.input)).toEqual([{}, {}, {}, {}, {}, {}]);
  });

  it('sends a data URL that is not base64 as a URL, for Anthropic to refuse', () => {
    const body = bodyOf({ ...base, messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/svg+xml,<svg/>', detail: null }], name: null }] });
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'data:image/svg+xml,<svg/>' } }] }]);
  });

  it('reads parameters off the media type of a data URL', () => {
    const body = bodyOf({ ...base, messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/jpeg;name=a.jpg;base64,/9j/4A==', detail: null }], name: null }] });
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4A==' } }] }]);
  });

  it('sends an assistant refusal as its text, and leaves out turns with nothing in them', () => {
    const body = bodyOf({
      ...base,
      messages: [
        { role: 'user', content: [{ type: 'text', text: '' }], name: null },
        ...base.messages,
        { role: 'assistant', content: [], toolCalls: [], refusal: "I can't help with that.", name: null },
        { role: 'assistant', content: [], toolCalls: [], refusal: null, name: null },
        { role: 'tool', toolCallId: 'call_x', content: [] },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: "I can't help with that." }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_x' }] },
    ]);
  });
});

describe('Anthropic adapter: the client\'s messages bytes', () => {
  const request: ChatRequest = {
    ...base,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'A long document', cacheControl: { type: 'ephemeral' } }, { type: 'text', text: 'Summarise it.' }], name: null },
      { role: 'assistant', content: [{ type: 'text', text: 'It says hello.' }], toolCalls: [], refusal: null, name: null },
      { role: 'user', content: [{ type: 'text', text: 'Shorter.' }], name: null },
    ],
  };

  it('sends them as they came when its own rendering is the same JSON, and the same body either way', () => {
    const sent = JSON.stringify(bodyOf(request).messages, null, 1);
    const prepared = anthropicAdapter.prepareChat({ ...request, sourceMessages: { value: JSON.parse(sent) as unknown, bytes: new TextEncoder().encode(sent) } }, target);
    expect(new TextDecoder().decode(prepared.body as Uint8Array).startsWith(`{"messages":${sent},"model":"claude-sonnet-4-5-20250929"`)).toBe(true);
    expect(bodyJson(prepared)).toEqual(bodyOf(request));
  });

  it('renders them itself when the client\'s say something else (a string where it renders blocks)', () => {
    const sent = '[{"role":"user","content":"A long document"}]';
    const prepared = anthropicAdapter.prepareChat({ ...request, sourceMessages: { value: JSON.parse(sent) as unknown, bytes: new TextEncoder().encode(sent) } }, target);
    expect([typeof prepared.body, bodyJson(prepared)]).toEqual(['string', bodyOf(request)]);
  });
});
