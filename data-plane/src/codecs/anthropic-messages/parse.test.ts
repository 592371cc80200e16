import { GatewayError, NO_SAMPLING, type ChatRequest } from '@tollgate/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SOURCE_MIN_BYTES } from '../source-json.ts';
import { parseAnthropicCountTokens, parseAnthropicMessages } from './parse.ts';

const parse = (value: unknown): ChatRequest => parseAnthropicMessages(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const messages = [{ role: 'user', content: 'Hi' }];
const minimal = { model: 'm', max_tokens: 100, messages };

function refusal(value: unknown): { code: string; param: string | null; status: number } | null {
  try {
    parse(value);
    return null;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { code: error.code, param: error.param, status: error.status };
  }
}

describe('parseAnthropicMessages', () => {
  it('reads every field the gateway understands into the canonical request', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const request = parse({
      model: 'resale/claude',
      max_tokens: 2048,
      stream: true,
      temperature: 0.3,
      top_p: 0.8,
      top_k: 40,
      stop_sequences: ['END', '###'],
      metadata: { user_id: 'user-7f3a' },
      service_tier: 'auto',
      system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: '<manual>', cache_control: { type: 'ephemeral', ttl: '5m' } }],
      tools: [
        { name: 'get_weather', description: 'Current weather', input_schema: schema, strict: true, cache_control: { type: 'ephemeral' } },
        { type: 'custom', name: 'get_time', input_schema: { type: 'object' } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      thinking: { type: 'enabled', budget_tokens: 1500, display: 'summarized' },
      output_config: { effort: 'medium', format: { type: 'json_schema', schema: { type: 'object' } } },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://img.test/a.jpg' }, cache_control: { type: 'ephemeral' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Two tools.', signature: 'sig-1' },
            { type: 'redacted_thinking', data: 'opaque-1' },
            { type: 'text', text: 'Checking.', citations: null },
            { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {}, cache_control: { type: 'ephemeral' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01A', content: '18°C' },
            { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: 'timed out' }], is_error: true, cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
        { role: 'assistant', content: 'Tomorrow' },
      ],
    });
    expect(request).toStrictEqual({
      model: 'resale/claude',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: '<manual>', cacheControl: { type: 'ephemeral' } }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', detail: null },
            { type: 'image', url: 'https://img.test/a.jpg', detail: null, cacheControl: { type: 'ephemeral' } },
          ],
          name: null,
        },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'Checking.' }],
          toolCalls: [
            { id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'toolu_01B', name: 'get_time', arguments: '{}', cacheControl: { type: 'ephemeral' } },
          ],
          refusal: null,
          name: null,
          reasoningBlocks: [
            { type: 'thinking', text: 'Two tools.', signature: 'sig-1' },
            { type: 'redacted', data: 'opaque-1' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_01A', content: [{ type: 'text', text: '18°C' }] },
        { role: 'tool', toolCallId: 'toolu_01B', content: [{ type: 'text', text: 'timed out' }], isError: true, cacheControl: { type: 'ephemeral' } },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }], name: null },
        // A final assistant turn is a prefill: kept as the last message.
        { role: 'assistant', content: [{ type: 'text', text: 'Tomorrow' }], toolCalls: [], refusal: null, name: null },
      ],
      tools: [
        { name: 'get_weather', description: 'Current weather', parameters: schema, strict: true, cacheControl: { type: 'ephemeral' } },
        { name: 'get_time', description: null, parameters: { type: 'object' }, strict: null },
      ],
      toolChoice: { type: 'required' },
      parallelToolCalls: false,
      responseFormat: { type: 'json_schema', name: 'response', schema: { type: 'object' }, strict: true, description: null },
      // top_k is dropped: no canonical field, no other provider takes it.
      sampling: { ...NO_SAMPLING, temperature: 0.3, topP: 0.8, stop: ['END', '###'] },
      maxOutputTokens: 2048,
      n: 1,
      stream: true,
      includeUsage: true,
      reasoningEffort: 'medium',
      thinking: { type: 'enabled', budgetTokens: 1500, effort: 'medium', display: 'summarized' },
      user: 'user-7f3a',
      sourceMessages: null,
    });
  });

  it('defaults what the client left out, and reads string contents', () => {
    expect(parse({ model: 'm', max_tokens: 10, system: 'Be kind.', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] })).toStrictEqual({
      model: 'm',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be kind.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello' }], toolCalls: [], refusal: null, name: null },
      ],
      tools: [],
      toolChoice: null,
      parallelToolCalls: null,
      responseFormat: null,
      sampling: NO_SAMPLING,
      maxOutputTokens: 10,
      n: 1,
      stream: false,
      includeUsage: true,
      reasoningEffort: null,
      user: null,
      sourceMessages: null,
    });
  });

  it('drops an empty system prompt', () => {
    expect(parse({ ...minimal, system: '' }).messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null }]);
    expect(parse({ ...minimal, system: [] }).messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null }]);
  });

  it('drops fields it does not know instead of forwarding them, and accepts the standard-priced values of priced fields', () => {
    const request = parse({ ...minimal, api_base: 'http://169.254.169.254', top_k: 5, speed: 'standard', inference_geo: 'global', service_tier: 'standard_only', mcp_servers: [], anthropic_version: 'vertex-2023-10-16' });
    expect(JSON.stringify(request)).not.toContain('169.254');
    expect(request).toStrictEqual(parse(minimal));
  });

  it.each([
    ['auto', { type: 'auto' }, { type: 'auto' }, null],
    ['auto, one call at a time', { type: 'auto', disable_parallel_tool_use: true }, { type: 'auto' }, false],
    ['any, parallel allowed', { type: 'any', disable_parallel_tool_use: false }, { type: 'required' }, true],
    ['a named tool', { type: 'tool', name: 'f' }, { type: 'function', name: 'f' }, null],
    ['none', { type: 'none', disable_parallel_tool_use: true }, { type: 'none' }, null],
  ])('reads tool_choice %s', (_what, toolChoice, expected, parallel) => {
    const request = parse({ ...minimal, tool_choice: toolChoice });
    expect([request.toolChoice, request.parallelToolCalls]).toEqual([expected, parallel]);
  });

  it.each([
    ['disabled thinking', { thinking: { type: 'disabled' } }, null, { type: 'disabled', budgetTokens: null, effort: null, display: null }],
    ['adaptive thinking, default effort', { thinking: { type: 'adaptive' } }, 'high', { type: 'adaptive', budgetTokens: null, effort: null, display: null }],
    ['adaptive thinking, low effort', { thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }, 'low', { type: 'adaptive', budgetTokens: null, effort: 'low', display: null }],
    ['an effort alone', { output_config: { effort: 'max' } }, 'high', { type: null, budgetTokens: null, effort: 'max', display: null }],
    ['a small budget', { thinking: { type: 'enabled', budget_tokens: 4096 } }, 'low', { type: 'enabled', budgetTokens: 4096, effort: null, display: null }],
    ['a medium budget', { thinking: { type: 'enabled', budget_tokens: 16384 } }, 'medium', { type: 'enabled', budgetTokens: 16384, effort: null, display: null }],
    ['a large budget', { thinking: { type: 'enabled', budget_tokens: 30000 } }, 'high', { type: 'enabled', budgetTokens: 30000, effort: null, display: null }],
  ])('keeps %s, with the portable effort for other providers', (_what, fields, effort, thinking) => {
    const request = parse({ ...minimal, max_tokens: 32000, ...fields });
    expect([request.reasoningEffort, request.thinking]).toEqual([effort, thinking]);
  });

  it('has no thinking settings when the client set none', () => {
    expect(parse(minimal)).not.toHaveProperty('thinking');
  });

  it('reads the older output_format as strict JSON output', () => {
    expect(parse({ ...minimal, output_format: { type: 'json_schema', schema: { type: 'object' } } }).responseFormat).toEqual({
      type: 'json_schema', name: 'response', schema: { type: 'object' }, strict: true, description: null,
    });
  });

  it('puts the top-level cache_control on the last block of the request', () => {
    const marker = { type: 'ephemeral' };
    expect(parse({ ...minimal, cache_control: marker, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cacheControl: marker }], name: null },
    ]);
    expect(parse({ ...minimal, cache_control: marker, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'x' }] }] }).messages).toEqual([
      { role: 'tool', toolCallId: 't1', content: [{ type: 'text', text: 'x' }], cacheControl: marker },
    ]);
    expect(
      parse({ ...minimal, cache_control: marker, messages: [...messages, { role: 'assistant', content: [{ type: 'text', text: 'c' }, { type: 'tool_use', id: 't2', name: 'f', input: {} }] }] }).messages.at(-1),
    ).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'c' }], toolCalls: [{ id: 't2', name: 'f', arguments: '{}', cacheControl: marker }], refusal: null, name: null });
  });

  it.each([
    ['{"model":', 'invalid_json', null],
    ['"a string"', 'invalid_json', null],
    ['[]', 'invalid_json', null],
    [{ max_tokens: 1, messages }, 'invalid_request', 'model'],
    [{ model: '', max_tokens: 1, messages }, 'invalid_request', 'model'],
    [{ model: 'x'.repeat(257), max_tokens: 1, messages }, 'invalid_request', 'model'],
    [{ model: 'm', messages }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', max_tokens: 0, messages }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', max_tokens: 1.5, messages }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', max_tokens: '10', messages }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', max_tokens: 10_000_001, messages }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', max_tokens: 1 }, 'invalid_request', 'messages'],
    [{ model: 'm', max_tokens: 1, messages: [] }, 'invalid_request', 'messages'],
    [{ ...minimal, messages: [{ role: 'system', content: 'x' }] }, 'invalid_request', 'messages[0].role'],
    [{ ...minimal, messages: [{ role: 'user', content: [] }] }, 'invalid_request', 'messages[0].content'],
    [{ ...minimal, messages: [{ role: 'user', content: 5 }] }, 'invalid_request', 'messages[0].content'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'Qk0=' } }] }] }, 'invalid_request', 'messages[0].content[0].source.media_type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'file:///etc/passwd' } }] }] }, 'invalid_request', 'messages[0].content[0].source.url'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }, 'unsupported_parameter', 'messages[0].content[0].source.type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] }, 'unsupported_parameter', 'messages[0].content[0]'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: {} }] }] }] }, 'unsupported_parameter', 'messages[0].content[0].content[0]'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'invalid_request', 'messages[0].content[0].tool_use_id'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', is_error: 'yes' }] }] }, 'invalid_request', 'messages[0].content[0].is_error'],
    [{ ...minimal, messages: [{ role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] }] }, 'unsupported_parameter', 'messages[0].content[0]'],
    [{ ...minimal, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: '{}' }] }] }, 'invalid_request', 'messages[0].content[0].input'],
    [{ ...minimal, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'x' }] }] }, 'invalid_request', 'messages[0].content[0].signature'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral', ttl: '1h' } }] }] }, 'unsupported_parameter', 'messages[0].content[0].cache_control.ttl'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'persistent' } }] }] }, 'invalid_request', 'messages[0].content[0].cache_control.type'],
    [{ ...minimal, cache_control: { type: 'ephemeral', ttl: '1h' } }, 'unsupported_parameter', 'cache_control.ttl'],
    [{ ...minimal, system: 5 }, 'invalid_request', 'system'],
    [{ ...minimal, system: [{ type: 'image', source: {} }] }, 'invalid_request', 'system[0].type'],
    [{ ...minimal, stream: 'yes' }, 'invalid_request', 'stream'],
    [{ ...minimal, temperature: 1.5 }, 'invalid_request', 'temperature'],
    [{ ...minimal, top_p: -0.1 }, 'invalid_request', 'top_p'],
    [{ ...minimal, stop_sequences: Array.from({ length: 17 }, (_, i) => `s${i}`) }, 'invalid_request', 'stop_sequences'],
    [{ ...minimal, stop_sequences: [5] }, 'invalid_request', 'stop_sequences[0]'],
    [{ ...minimal, metadata: { user_id: 5 } }, 'invalid_request', 'metadata.user_id'],
    [{ ...minimal, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }] }, 'unsupported_parameter', 'tools[0].type'],
    [{ ...minimal, tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'unsupported_parameter', 'tools[0].type'],
    [{ ...minimal, tools: [{ name: 'f' }] }, 'invalid_request', 'tools[0].input_schema'],
    [{ ...minimal, tools: [{ name: 'has space', input_schema: {} }] }, 'invalid_request', 'tools[0].name'],
    [{ ...minimal, tools: [{ name: 'f', input_schema: {}, cache_control: { type: 'ephemeral', ttl: '1h' } }] }, 'unsupported_parameter', 'tools[0].cache_control.ttl'],
    [{ ...minimal, tool_choice: 'auto' }, 'invalid_request', 'tool_choice'],
    [{ ...minimal, tool_choice: { type: 'sometimes' } }, 'invalid_request', 'tool_choice.type'],
    [{ ...minimal, tool_choice: { type: 'tool' } }, 'invalid_request', 'tool_choice.name'],
    [{ ...minimal, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1000 } }, 'invalid_request', 'thinking.budget_tokens'],
    [{ ...minimal, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 4000 } }, 'invalid_request', 'thinking.budget_tokens'],
    [{ ...minimal, max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 } }, 'invalid_request', 'max_tokens'],
    [{ ...minimal, thinking: { type: 'on' } }, 'invalid_request', 'thinking.type'],
    [{ ...minimal, thinking: { type: 'adaptive', display: 'full' } }, 'invalid_request', 'thinking.display'],
    [{ ...minimal, output_config: { effort: 'ultra' } }, 'invalid_request', 'output_config.effort'],
    [{ ...minimal, output_config: { format: { type: 'json_object' } } }, 'invalid_request', 'output_config.format.type'],
    [{ ...minimal, output_config: { format: { type: 'json_schema' } } }, 'invalid_request', 'output_config.format.schema'],
    [{ ...minimal, speed: 'fast' }, 'unsupported_parameter', 'speed'],
    [{ ...minimal, inference_geo: 'us' }, 'unsupported_parameter', 'inference_geo'],
    [{ ...minimal, service_tier: 'priority' }, 'unsupported_parameter', 'service_tier'],
    [{ ...minimal, container: 'container_01' }, 'unsupported_parameter', 'container'],
    [{ ...minimal, mcp_servers: [{ type: 'url', url: 'https://mcp.test', name: 'x' }] }, 'unsupported_parameter', 'mcp_servers'],
    [{ ...minimal, context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] } }, 'unsupported_parameter', 'context_management'],
  ])('refuses %j with %s on %s', (body, code, param) => {
    expect(refusal(body)).toEqual({ code, param, status: 400 });
  });

  it('answers any JSON body with a canonical request or a GatewayError, never another error (property)', () => {
    const anything = fc.jsonValue({ maxDepth: 3 });
    const block = fc.record(
      {
        type: fc.constantFrom('text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'document'),
        text: anything, source: anything, id: anything, name: anything, input: anything, content: anything,
        tool_use_id: anything, is_error: anything, thinking: anything, signature: anything, data: anything, cache_control: anything,
      },
      { requiredKeys: ['type'] },
    );
    const message = fc.record({ role: fc.constantFrom('user', 'assistant', 'system'), content: fc.oneof(fc.string(), fc.array(block, { maxLength: 4 }), anything) });
    const body = fc.record(
      {
        model: fc.oneof(fc.constant('m'), anything), max_tokens: fc.oneof(fc.constant(4000), anything), messages: fc.oneof(fc.array(message, { maxLength: 4 }), anything),
        system: anything, tools: anything, tool_choice: anything, thinking: anything, output_config: anything, output_format: anything, metadata: anything,
        cache_control: anything, stop_sequences: anything, temperature: anything, stream: anything, speed: anything, service_tier: anything,
      },
      { requiredKeys: [] },
    );
    const outcome = (value: unknown): string => {
      try {
        parse(value);
        return 'parsed';
      } catch (error) {
        return error instanceof GatewayError ? 'refused' : String(error);
      }
    };
    fc.assert(
      fc.property(body, (value) => {
        expect(['parsed', 'refused']).toContain(outcome(value));
      }),
      { numRuns: 500 },
    );
  });

  it('never repeats a long refused value in its message', () => {
    const long = `fast${'x'.repeat(500)}`;
    expect(() => parse({ ...minimal, speed: long })).toThrow('"speed": "fastxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" is priced at a multiple of the standard rates and is not supported; omit it.');
  });
});

describe('parseAnthropicMessages: a long body\'s messages bytes', () => {
  const messages = `[{"role":"user","content":[{"type":"text","text":"${'long document '.repeat(SOURCE_MIN_BYTES / 14)}","cache_control":{"type":"ephemeral"}}]}]`;
  const raw = Buffer.from(`{"model":"claude", "max_tokens": 10, "messages": ${messages}}`);

  it('keeps them with the value read, for the adapter to forward', () => {
    const source = parseAnthropicMessages(raw).sourceMessages!;
    expect([Buffer.from(source.bytes).toString('utf8'), source.value]).toEqual([messages, JSON.parse(messages)]);
  });

  it('keeps none for count_tokens, whose upstream body is a selection of fields', () => {
    expect(parseAnthropicCountTokens(raw).sourceMessages).toBeUndefined();
  });
});
