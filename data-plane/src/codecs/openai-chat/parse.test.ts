import { describe, expect, it } from 'vitest';
import { SOURCE_MIN_BYTES } from '../source-json.ts';
import { parseOpenAIChat } from './parse.ts';

const parse = (value: unknown) => parseOpenAIChat(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const messages = [{ role: 'user', content: 'hi' }];

describe('parseOpenAIChat', () => {
  it('reads every field the gateway understands into the canonical request', () => {
    const request = parse({
      model: 'resale/m', stream: true, stream_options: { include_usage: true }, max_completion_tokens: 50, max_tokens: 80, n: 2,
      temperature: 0.2, top_p: 0.9, frequency_penalty: 0.1, presence_penalty: -0.1, seed: 3, stop: 'END', logprobs: true, top_logprobs: 2,
      logit_bias: { '50256': -100 }, reasoning_effort: 'low', user: 'u1', parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' }, strict: true } },
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png', detail: 'low' } }], name: 'ann' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'result' },
      ],
    });
    expect(request).toEqual({
      model: 'resale/m',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://x.test/a.png', detail: 'low' }], name: 'ann' },
        { role: 'assistant', content: [], toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }], refusal: null, name: null },
        { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: 'result' }] },
      ],
      tools: [{ name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true }],
      toolChoice: { type: 'function', name: 'f' },
      parallelToolCalls: false,
      responseFormat: { type: 'json_schema', name: 's', schema: { type: 'object' }, strict: true, description: null },
      sampling: { temperature: 0.2, topP: 0.9, frequencyPenalty: 0.1, presencePenalty: -0.1, seed: 3, stop: ['END'], logprobs: true, topLogprobs: 2, logitBias: { '50256': -100 } },
      // The smaller of the two caps: both mean "at most this many".
      maxOutputTokens: 50,
      n: 2,
      stream: true,
      includeUsage: true,
      reasoningEffort: 'low',
      user: 'u1',
      // A short body keeps no source bytes: re-serialising it is cheaper than finding them.
      sourceMessages: null,
    });
  });

  it('keeps a long body\'s messages as the value read and the bytes sent', () => {
    const messages = `[{"role":"user","content":"${'long prompt '.repeat(SOURCE_MIN_BYTES / 12)}"}]`;
    const raw = Buffer.from(`{"model":"m", "messages": ${messages}}`);
    const parsed = parseOpenAIChat(raw);
    expect([Buffer.from(parsed.sourceMessages!.bytes).toString('utf8'), parsed.sourceMessages!.value]).toEqual([messages, JSON.parse(messages)]);
  });

  it('defaults what the client left out', () => {
    expect(parse({ model: 'm', messages })).toMatchObject({ stream: false, includeUsage: false, maxOutputTokens: null, n: 1, tools: [], toolChoice: null, responseFormat: null });
  });

  it('drops fields it does not know instead of forwarding them', () => {
    const request = parse({ model: 'm', messages, api_base: 'http://169.254.169.254', store: true, metadata: { a: 1 }, service_tier: 'auto' });
    expect(Object.keys(request)).not.toContain('api_base');
    expect(JSON.stringify(request)).not.toContain('169.254');
  });

  it.each([
    ['{"model":', 'invalid_json', null],
    ['"a string"', 'invalid_json', null],
    ['[]', 'invalid_json', null],
    [{ messages }, 'invalid_request', 'model'],
    [{ model: '', messages }, 'invalid_request', 'model'],
    [{ model: 'x'.repeat(257), messages }, 'invalid_request', 'model'],
    [{ model: 'm' }, 'invalid_request', 'messages'],
    [{ model: 'm', messages: [] }, 'invalid_request', 'messages'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'invalid_request', 'messages[0].role'],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }, 'invalid_request', 'messages[0].content[0].image_url.url'],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'unsupported_parameter', 'messages[0].content[0]'],
    [{ model: 'm', messages, stream: 'yes' }, 'invalid_request', 'stream'],
    [{ model: 'm', messages, max_tokens: 0 }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', messages, max_tokens: 1.5 }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', messages, max_tokens: 10_000_001 }, 'invalid_request', 'max_tokens'],
    [{ model: 'm', messages, max_completion_tokens: '10' }, 'invalid_request', 'max_completion_tokens'],
    [{ model: 'm', messages, n: 0 }, 'invalid_request', 'n'],
    [{ model: 'm', messages, n: 17 }, 'invalid_request', 'n'],
    [{ model: 'm', messages, temperature: 3 }, 'invalid_request', 'temperature'],
    [{ model: 'm', messages, stop: ['a', 'b', 'c', 'd', 'e'] }, 'invalid_request', 'stop'],
    [{ model: 'm', messages, tools: [{ type: 'web_search' }] }, 'unsupported_parameter', 'tools[0].type'],
    [{ model: 'm', messages, tools: [{ type: 'function', function: { name: 'has space' } }] }, 'invalid_request', 'tools[0].function.name'],
    [{ model: 'm', messages, tool_choice: 'sometimes' }, 'invalid_request', 'tool_choice'],
    [{ model: 'm', messages, response_format: { type: 'yaml' } }, 'invalid_request', 'response_format.type'],
    [{ model: 'm', messages, reasoning_effort: 'max' }, 'invalid_request', 'reasoning_effort'],
    [{ model: 'm', messages, service_tier: 'priority' }, 'unsupported_parameter', 'service_tier'],
    [{ model: 'm', messages, prediction: { type: 'content', content: 'x' } }, 'unsupported_parameter', 'prediction'],
    [{ model: 'm', messages, functions: [] }, 'unsupported_parameter', 'functions'],
    [{ model: 'm', messages, modalities: ['text', 'audio'] }, 'unsupported_parameter', 'modalities'],
    [{ model: 'm', messages: new Array(10_001).fill({ role: 'user', content: 'x' }) }, 'invalid_request', 'messages'],
  ])('refuses %j with %s (param %s)', (body, code, param) => {
    expect(() => parse(body)).toThrow(expect.objectContaining({ code, param, status: 400 }));
  });
});

describe('parseOpenAIChat on arbitrary JSON', () => {
  it('answers any JSON body with a canonical request or a GatewayError, never another error (property)', async () => {
    const fc = (await import('fast-check')).default;
    const { GatewayError } = await import('@tollgate/shared');
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('toString', 'valueOf', 'type', 'role', 'content', 'text', 'url', 'name', 'function'), tie('any'), { maxKeys: 3 })),
    })).any;
    const message = fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool'), value), content: value }, { requiredKeys: [] });
    const body = fc.record(
      { model: fc.oneof(fc.constant('m'), value), messages: fc.oneof(fc.array(message, { maxLength: 3 }), value), service_tier: value, tools: value, tool_choice: value, response_format: value, stop: value, n: value, max_tokens: value, logit_bias: value },
      { requiredKeys: ['model', 'messages'] },
    );
    fc.assert(
      fc.property(body, (b) => {
        let outcome = 'parsed';
        try {
          parse(b);
        } catch (error) {
          outcome = error instanceof GatewayError && error.status === 400 ? 'refused' : String(error);
        }
        expect(['parsed', 'refused']).toContain(outcome);
      }),
      { numRuns: 500 },
    );
  });
});
