import { GatewayError, NO_SAMPLING, type ChatRequest } from '@tollgate/shared';
import { chatRequest } from '@tollgate/shared/providers/testing/requests';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseResponsesRequest } from './parse.ts';

const parse = (value: unknown): ChatRequest => parseResponsesRequest(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const minimal = { model: 'm', input: 'Hi' };

function refusal(value: unknown): { code: string; param: string | null; message: string } | null {
  try {
    parse(value);
    return null;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { code: error.code, param: error.param, message: error.message };
  }
}

/** How a parse ended: the canonical request, a GatewayError, or (a defect) anything else thrown. */
function outcome(run: () => unknown): unknown {
  try {
    run();
    return 'parsed';
  } catch (error) {
    return error instanceof GatewayError ? 'refused' : error;
  }
}

const PLAIN: ChatRequest = chatRequest({ includeUsage: true });

describe('parseResponsesRequest', () => {
  it('reads a string input as one user message', () => {
    expect(parse(minimal)).toEqual(PLAIN);
  });

  it('reads every field the gateway understands into the canonical request', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const request = parse({
      model: 'resale/gpt-4.1',
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        { type: 'function', name: 'get_weather', description: 'Current weather', parameters: schema, strict: true },
        { type: 'function', name: 'ping', parameters: null, strict: null },
      ],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'weather', schema, strict: true, description: 'The weather' }, verbosity: 'low' },
      reasoning: { effort: 'low', summary: 'concise' },
      max_output_tokens: 500,
      temperature: 0.4,
      top_p: 0.9,
      stream: true,
      user: 'user-7f3a',
      store: true,
      include: ['reasoning.encrypted_content'],
      metadata: { a: 'b' },
      truncation: 'auto',
      service_tier: 'auto',
      prompt_cache_key: 'k',
      top_logprobs: 2,
      max_tool_calls: 3,
    });
    expect(request).toEqual({
      model: 'resale/gpt-4.1',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }], name: null },
      ],
      tools: [
        { name: 'get_weather', description: 'Current weather', parameters: schema, strict: true },
        { name: 'ping', description: null, parameters: null, strict: null },
      ],
      toolChoice: { type: 'function', name: 'get_weather' },
      parallelToolCalls: false,
      responseFormat: { type: 'json_schema', name: 'weather', schema, strict: true, description: 'The weather' },
      sampling: { ...NO_SAMPLING, temperature: 0.4, topP: 0.9 },
      maxOutputTokens: 500,
      n: 1,
      stream: true,
      includeUsage: true,
      reasoningEffort: 'low',
      reasoningSummary: 'concise',
      user: 'user-7f3a',
    });
  });

  it('reads messages of every role, text and image parts, and assistant text and refusals sent back', () => {
    const request = parse({
      model: 'm',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Rules.' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0K' },
          ],
        },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }, { type: 'refusal', refusal: 'No more.' }], id: 'msg_1', status: 'completed' },
        { role: 'assistant', content: 'Plain.' },
        { role: 'system', content: 'Late system.' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'developer', content: [{ type: 'text', text: 'Rules.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'image', url: 'data:image/png;base64,iVBORw0K', detail: null },
        ],
        name: null,
      },
      { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }], toolCalls: [], refusal: 'No more.', name: null },
      { role: 'assistant', content: [{ type: 'text', text: 'Plain.' }], toolCalls: [], refusal: null, name: null },
      { role: 'system', content: [{ type: 'text', text: 'Late system.' }] },
    ]);
  });

  it('reads a function call round trip: calls join the assistant turn they follow, outputs answer their call_id; reasoning items are dropped', () => {
    const request = parse({
      model: 'm',
      input: [
        { role: 'user', content: 'Weather and time in Paris?' },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAA' },
        { role: 'assistant', content: 'Checking both.' },
        { type: 'function_call', id: 'fc_1', call_id: 'call_A', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
        { type: 'function_call', call_id: 'call_B', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_A', output: '18°C' },
        { type: 'function_call_output', call_id: 'call_B', output: [{ type: 'input_text', text: '14:05' }] },
        { type: 'function_call', call_id: 'call_C', name: 'get_time', arguments: '{"tz":"UTC"}' },
        { type: 'function_call_output', call_id: 'call_C', output: '12:05' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather and time in Paris?' }], name: null },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Checking both.' }],
        toolCalls: [
          { id: 'call_A', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_B', name: 'get_time', arguments: '{}' },
        ],
        refusal: null,
        name: null,
      },
      { role: 'tool', toolCallId: 'call_A', content: [{ type: 'text', text: '18°C' }] },
      { role: 'tool', toolCallId: 'call_B', content: [{ type: 'text', text: '14:05' }] },
      { role: 'assistant', content: [], toolCalls: [{ id: 'call_C', name: 'get_time', arguments: '{"tz":"UTC"}' }], refusal: null, name: null },
      { role: 'tool', toolCallId: 'call_C', content: [{ type: 'text', text: '12:05' }] },
    ]);
  });

  it('reads tool choices, JSON mode, plain text format, reasoning effort none and the older generate_summary', () => {
    for (const choice of ['auto', 'none', 'required'] as const) expect(parse({ ...minimal, tool_choice: choice }).toolChoice).toEqual({ type: choice });
    expect(parse({ ...minimal, text: { format: { type: 'json_object' } } }).responseFormat).toEqual({ type: 'json_object' });
    expect(parse({ ...minimal, text: { format: { type: 'text' } } }).responseFormat).toEqual({ type: 'text' });
    expect(parse({ ...minimal, text: { verbosity: 'high' } }).responseFormat).toBeNull();
    expect(parse({ ...minimal, reasoning: { effort: 'none' } })).toEqual(PLAIN);
    expect(parse({ ...minimal, reasoning: { effort: 'minimal', generate_summary: 'auto' } })).toEqual({ ...PLAIN, reasoningEffort: 'minimal', reasoningSummary: 'auto' });
    expect(parse({ ...minimal, reasoning: { effort: 'high', summary: 'detailed', generate_summary: 'auto' } })).toEqual({ ...PLAIN, reasoningEffort: 'high', reasoningSummary: 'detailed' });
  });

  it('takes safety_identifier as the end user when user is absent', () => {
    expect(parse({ ...minimal, safety_identifier: 'hash-1' }).user).toBe('hash-1');
    expect(parse({ ...minimal, user: 'u', safety_identifier: 'hash-1' }).user).toBe('u');
  });

  it.each([
    ['previous_response_id', { previous_response_id: 'resp_123' }, 'previous_response_id'],
    ['a conversation', { conversation: 'conv_123' }, 'conversation'],
    ['a stored prompt template', { prompt: { id: 'pmpt_1' } }, 'prompt'],
    ['background mode', { background: true }, 'background'],
    ['context management', { context_management: [{ type: 'compaction' }] }, 'context_management'],
    ['a priced service tier', { service_tier: 'priority' }, 'service_tier'],
    ['a built-in web search tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['a built-in file search tool', { tools: [{ type: 'function', name: 'f' }, { type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'tools[1].type'],
    ['an MCP tool', { tools: [{ type: 'mcp', server_label: 'x' }] }, 'tools[0].type'],
    ['a built-in tool choice', { tool_choice: { type: 'web_search_preview' } }, 'tool_choice.type'],
    ['an item reference', { input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
    ['a built-in tool call item', { input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input[0].type'],
    ['a file input', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0].type'],
    ['an image by file id', { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].file_id'],
    ['an image in a tool output', { input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, 'input[0].output[0].type'],
    ['an effort above high', { reasoning: { effort: 'xhigh' } }, 'reasoning.effort'],
  ])('refuses %s as an unsupported parameter (400)', (_what, fields, param) => {
    const found = refusal({ ...minimal, ...fields });
    expect([found?.code, found?.param]).toEqual(['unsupported_parameter', param]);
  });

  it('says why state is refused, and what to send instead', () => {
    expect(refusal({ ...minimal, previous_response_id: 'resp_123' })?.message).toBe(
      '"previous_response_id" is not supported: the gateway stores no conversations and lets no provider store them for it. Send the whole conversation as "input".',
    );
  });

  it.each([
    ['no model', { input: 'x' }, 'model'],
    ['an empty model', { model: '', input: 'x' }, 'model'],
    ['no input', { model: 'm' }, 'input'],
    ['only instructions', { model: 'm', instructions: 'x', input: [] }, 'input'],
    ['only reasoning items', { model: 'm', input: [{ type: 'reasoning', summary: [] }] }, 'input'],
    ['an input that is a number', { model: 'm', input: 5 }, 'input'],
    ['a message without a role', { model: 'm', input: [{ content: 'x' }] }, 'input[0].role'],
    ['a message of another role', { model: 'm', input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
    ['an image URL of another scheme', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'file:///etc/passwd' }] }] }, 'input[0].content[0].image_url'],
    ['an image detail we do not know', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png', detail: 'original' }] }] }, 'input[0].content[0].detail'],
    ['a function call without a call_id', { model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id'],
    ['a function call with a bad name', { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'a b', arguments: '{}' }] }, 'input[0].name'],
    ['a function call whose arguments are not text', { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] }, 'input[0].arguments'],
    ['a function output without a call_id', { model: 'm', input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id'],
    ['a tool name with spaces', { ...minimal, tools: [{ type: 'function', name: 'get weather' }] }, 'tools[0].name'],
    ['tool parameters that are not an object', { ...minimal, tools: [{ type: 'function', name: 'f', parameters: [] }] }, 'tools[0].parameters'],
    ['too many tools', { ...minimal, tools: Array.from({ length: 129 }, () => ({ type: 'function', name: 'f' })) }, 'tools'],
    ['an unknown tool choice', { ...minimal, tool_choice: 'any' }, 'tool_choice'],
    ['a JSON schema without a schema', { ...minimal, text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema'],
    ['an unknown format', { ...minimal, text: { format: { type: 'yaml' } } }, 'text.format.type'],
    ['an unknown effort', { ...minimal, reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
    ['an unknown summary', { ...minimal, reasoning: { summary: 'long' } }, 'reasoning.summary'],
    ['a zero output cap', { ...minimal, max_output_tokens: 0 }, 'max_output_tokens'],
    ['a fractional output cap', { ...minimal, max_output_tokens: 1.5 }, 'max_output_tokens'],
    ['a temperature above 2', { ...minimal, temperature: 2.5 }, 'temperature'],
    ['a top_p above 1', { ...minimal, top_p: 1.5 }, 'top_p'],
    ['a stream flag that is not a boolean', { ...minimal, stream: 'yes' }, 'stream'],
  ])('refuses %s as an invalid request (400)', (_what, body, param) => {
    const found = refusal(body);
    expect([found?.code, found?.param]).toEqual(['invalid_request', param]);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of ['not json', '[]', 'null', '"x"']) expect(refusal(body)?.code).toBe('invalid_json');
  });

  it('answers any JSON with a request or a GatewayError, never another error (property)', () => {
    const item = fc.record(
      { type: fc.constantFrom('message', 'function_call', 'function_call_output', 'reasoning', 'x'), role: fc.jsonValue(), content: fc.jsonValue(), call_id: fc.jsonValue(), name: fc.jsonValue(), arguments: fc.jsonValue(), output: fc.jsonValue() },
      { requiredKeys: [] },
    );
    const body = fc.record(
      { model: fc.oneof(fc.constant('m'), fc.jsonValue()), input: fc.oneof(fc.string(), fc.array(item), fc.jsonValue()), tools: fc.jsonValue(), tool_choice: fc.jsonValue(), text: fc.jsonValue(), reasoning: fc.jsonValue(), toString: fc.jsonValue() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(body, (value) => {
        expect(outcome(() => parse(value))).toMatch(/^(parsed|refused)$/);
      }),
      { numRuns: 500 },
    );
  });
});
