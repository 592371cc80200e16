import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatMessage, type ChatRequest } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import type { Credential } from '../credentials.ts';
import { chatRequest, bodyJson } from '../testing/requests.ts';
import { bedrockAdapter } from './adapter.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const AWS: Credential = { kind: 'aws', accessKeyId: 'AKIDEXAMPLE0EXAMPLE0', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1', sessionToken: null };

function target(over: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return {
    provider: 'bedrock',
    origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
    basePath: '',
    upstreamModel: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
    credential: AWS,
    extraHeaders: {},
    ...over,
  };
}

const chat = (over: Partial<ChatRequest> = {}): ChatRequest => chatRequest({ model: 'byok/claude-3-5-sonnet', ...over });

const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }], name: null });
const bodyOf = (prepared: PreparedRequest): unknown => bodyJson(prepared);
const prepare = (request: ChatRequest, t: UpstreamTarget = target()): PreparedRequest => bedrockAdapter.prepareChat(request, t);

/** The error a call throws (or null), to assert on its code, param and message together. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (error) {
    return error;
  }
}

const WEATHER_TOOLS: ChatRequest['tools'] = [
  { name: 'get_weather', description: 'Current weather for a place', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] }, strict: true },
  { name: 'get_local_time', description: null, parameters: null, strict: null },
];

describe('Bedrock prepareChat', () => {
  it('writes a whole conversation as a ConverseStream request, exactly', () => {
    const request = chat({
      stream: true,
      includeUsage: true,
      maxOutputTokens: 512,
      sampling: { ...NO_SAMPLING, temperature: 0.3, topP: 0.9, stop: ['###'] },
      tools: WEATHER_TOOLS,
      toolChoice: { type: 'auto' },
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are terse.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather and time in Paris? Also, what is this?' },
            { type: 'image', url: `data:image/png;base64,${PNG}`, detail: 'high' },
          ],
          name: 'alice',
        },
        {
          role: 'assistant',
          content: [{ type: 'text', text: '' }],
          toolCalls: [
            { id: 'tooluse_weather_1', name: 'get_weather', arguments: '{"location": "Paris, France"}' },
            { id: 'tooluse_time_2', name: 'get_local_time', arguments: '' },
          ],
          refusal: null,
          name: null,
        },
        { role: 'tool', toolCallId: 'tooluse_weather_1', content: [{ type: 'text', text: '18°C, clear' }] },
        { role: 'tool', toolCallId: 'tooluse_time_2', content: [{ type: 'text', text: '14:05' }] },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in one line.' }] },
        user('Thanks!'),
      ],
    });
    const prepared = prepare(request);
    expect({ ...prepared, body: null }).toEqual({
      method: 'POST',
      origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream',
      headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream', 'accept-encoding': 'identity' },
      body: null,
    });
    expect(bodyOf(prepared)).toEqual({
      messages: [
        {
          role: 'user',
          content: [{ text: 'Weather and time in Paris? Also, what is this?' }, { image: { format: 'png', source: { bytes: PNG } } }],
        },
        {
          role: 'assistant',
          // The blank text beside the tool calls is dropped: Converse refuses blank text blocks.
          content: [
            { toolUse: { toolUseId: 'tooluse_weather_1', name: 'get_weather', input: { location: 'Paris, France' } } },
            { toolUse: { toolUseId: 'tooluse_time_2', name: 'get_local_time', input: {} } },
          ],
        },
        {
          // Both tool results and the next user turn make one user message: turns must alternate.
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'tooluse_weather_1', content: [{ text: '18°C, clear' }] } },
            { toolResult: { toolUseId: 'tooluse_time_2', content: [{ text: '14:05' }] } },
            { text: 'Thanks!' },
          ],
        },
      ],
      system: [{ text: 'You are terse.' }, { text: 'Answer in one line.' }],
      inferenceConfig: { maxTokens: 512, temperature: 0.3, topP: 0.9, stopSequences: ['###'] },
      // With stop sequences, the one that ended the answer is asked back (models that do not say ignore it).
      additionalModelResponseFieldPaths: ['/stop_sequence'],
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Current weather for a place',
              inputSchema: { json: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
            },
          },
          { toolSpec: { name: 'get_local_time', inputSchema: { json: { type: 'object', properties: {} } } } },
        ],
        toolChoice: { auto: {} },
      },
    });
  });

  it('writes the smallest request: /converse, JSON accepted, only messages in the body', () => {
    const prepared = prepare(chat());
    expect(prepared).toEqual({
      method: 'POST',
      origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'identity' },
      body: '{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}',
    });
  });

  it('keeps an inference profile ARN as one path segment, under an operator channel\'s base path', () => {
    const prepared = prepare(
      chat(),
      target({
        origin: 'https://bedrock.internal.example:8443',
        basePath: '/proxy',
        upstreamModel: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0',
        extraHeaders: { 'x-channel': 'ops' },
      }),
    );
    expect(prepared.path).toBe('/proxy/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0/converse');
    expect(prepared.headers).toEqual({ 'x-channel': 'ops', 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'identity' });
  });

  it('maps tool choices: required to any, a function to tool, none to no tools', () => {
    const choice = (toolChoice: ChatRequest['toolChoice']): unknown => (bodyOf(prepare(chat({ tools: WEATHER_TOOLS.slice(0, 1), toolChoice }))) as { toolConfig?: unknown }).toolConfig ?? null;
    const tools = [
      {
        toolSpec: {
          name: 'get_weather',
          description: 'Current weather for a place',
          inputSchema: { json: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
        },
      },
    ];
    expect(choice({ type: 'required' })).toEqual({ tools, toolChoice: { any: {} } });
    expect(choice({ type: 'function', name: 'get_weather' })).toEqual({ tools, toolChoice: { tool: { name: 'get_weather' } } });
    expect(choice(null)).toEqual({ tools });
    expect(choice({ type: 'none' })).toBe(null);
  });

  it('keeps the tools without a choice for tool choice none when the conversation holds tool calls (Bedrock requires toolConfig then)', () => {
    const request = chat({
      tools: WEATHER_TOOLS.slice(1),
      toolChoice: { type: 'none' },
      messages: [
        user('Time?'),
        { role: 'assistant', content: [], toolCalls: [{ id: 't1', name: 'get_local_time', arguments: '{}' }], refusal: null, name: null },
        { role: 'tool', toolCallId: 't1', content: [{ type: 'text', text: '14:05' }] },
      ],
    });
    expect((bodyOf(prepare(request)) as { toolConfig: unknown }).toolConfig).toEqual({ tools: [{ toolSpec: { name: 'get_local_time', inputSchema: { json: { type: 'object', properties: {} } } } }] });
  });

  it('merges consecutive turns of one role, drops blank text only beside other content, and keeps a refusal as text', () => {
    const request = chat({
      messages: [
        user('one'),
        { role: 'user', content: [{ type: 'text', text: '  ' }, { type: 'text', text: 'two' }], name: null },
        { role: 'assistant', content: [{ type: 'text', text: 'a' }], toolCalls: [], refusal: null, name: null },
        { role: 'assistant', content: [], toolCalls: [], refusal: "I can't help with that.", name: null },
        user(' '),
      ],
    });
    expect((bodyOf(prepare(request)) as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ text: 'one' }, { text: 'two' }] },
      { role: 'assistant', content: [{ text: 'a' }, { text: "I can't help with that." }] },
      // Blank text alone is sent as it is: Bedrock's validation answers it.
      { role: 'user', content: [{ text: ' ' }] },
    ]);
  });

  it('reads jpeg, gif and webp data URLs, case-insensitively', () => {
    const images = ['data:image/jpeg;base64,AAAA', 'data:IMAGE/JPG;BASE64,BBBB', 'data:image/gif;base64,CCCC', 'data:image/webp;base64,DDDD'];
    const request = chat({ messages: [{ role: 'user', content: images.map((url) => ({ type: 'image' as const, url, detail: null })), name: null }] });
    expect((bodyOf(prepare(request)) as { messages: unknown }).messages).toEqual([
      {
        role: 'user',
        content: [
          { image: { format: 'jpeg', source: { bytes: 'AAAA' } } },
          { image: { format: 'jpeg', source: { bytes: 'BBBB' } } },
          { image: { format: 'gif', source: { bytes: 'CCCC' } } },
          { image: { format: 'webp', source: { bytes: 'DDDD' } } },
        ],
      },
    ]);
  });

  it('does not send knobs Converse has no field for (seed, penalties, logit_bias, user, parallel tool calls, reasoning effort, json_object)', () => {
    const plain = prepare(chat({ tools: WEATHER_TOOLS }));
    const knobs = prepare(
      chat({
        tools: WEATHER_TOOLS,
        sampling: { ...NO_SAMPLING, seed: 7, frequencyPenalty: 0.5, presencePenalty: 0.5, logitBias: { '50256': -100 }, logprobs: false },
        user: 'user-123',
        parallelToolCalls: false,
        reasoningEffort: 'high',
        responseFormat: { type: 'json_object' },
      }),
    );
    expect(knobs.body).toBe(plain.body);
  });
});

describe('Bedrock prepareChat: refusals', () => {
  const image = (url: string): ChatRequest => chat({ messages: [user('look'), { role: 'user', content: [{ type: 'image', url, detail: null }], name: null }] });

  it('refuses https and http image URLs: Converse takes image bytes only', () => {
    for (const url of ['https://example.com/cat.png', 'http://example.com/cat.png']) {
      expect(thrown(() => prepare(image(url)))).toMatchObject({
        name: 'GatewayError',
        code: 'unsupported_parameter',
        status: 400,
        param: 'messages[1].content',
        message: 'AWS Bedrock does not accept image URLs: send the image inline as a base64 data: URL (png, jpeg, gif or webp).',
      });
    }
  });

  it('refuses a data URL that is not base64, or not of an image format Converse takes', () => {
    expect(thrown(() => prepare(image('data:image/png,rawbytes')))).toMatchObject({ code: 'unsupported_parameter', message: 'An image data: URL must be base64-encoded (data:image/png;base64,...).' });
    expect(thrown(() => prepare(image('data:image/png;base64')))).toMatchObject({ code: 'unsupported_parameter', message: 'An image data: URL must be base64-encoded (data:image/png;base64,...).' });
    expect(thrown(() => prepare(image('data:image/svg+xml;base64,PHN2Zz4=')))).toMatchObject({ code: 'unsupported_parameter', message: 'AWS Bedrock takes png, jpeg, gif or webp images.' });
  });

  it('refuses tool call arguments that are not a JSON object, naming where they are', () => {
    for (const args of ['{"location": "Par', '[1, 2]', '"Paris"', 'null', '5']) {
      const request = chat({
        messages: [user('Weather?'), { role: 'assistant', content: [], toolCalls: [{ id: 'a', name: 'f', arguments: '{}' }, { id: 'b', name: 'f', arguments: args }], refusal: null, name: null }],
      });
      expect(thrown(() => prepare(request))).toMatchObject({
        code: 'invalid_request',
        param: 'messages[1].tool_calls[1].function.arguments',
        message: 'The arguments of an assistant tool call must be a JSON object to be sent to AWS Bedrock.',
      });
    }
  });

  it('refuses n > 1, logprobs and a json_schema response format', () => {
    expect(thrown(() => prepare(chat({ n: 2 })))).toMatchObject({ code: 'unsupported_parameter', param: 'n' });
    expect(thrown(() => prepare(chat({ sampling: { ...NO_SAMPLING, logprobs: true } })))).toMatchObject({ code: 'unsupported_parameter', param: 'logprobs' });
    expect(thrown(() => prepare(chat({ sampling: { ...NO_SAMPLING, topLogprobs: 3 } })))).toMatchObject({ code: 'unsupported_parameter', param: 'logprobs' });
    expect(thrown(() => prepare(chat({ responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true, description: null } })))).toMatchObject({
      code: 'unsupported_parameter',
      param: 'response_format',
    });
  });

  it('refuses a credential that is not an AWS one', () => {
    expect(() => prepare(chat(), target({ credential: { kind: 'api_key', apiKey: 'sk-test-1234567890' } }))).toThrow(new TypeError('AWS Bedrock takes an aws credential, not a api_key credential'));
  });

  it('throws GatewayError instances, which the pipeline answers as 400s', () => {
    expect(thrown(() => prepare(chat({ n: 3 })))).toBeInstanceOf(GatewayError);
  });
});

/**
 * Expected signatures computed independently with botocore's SigV4Auth (botocore 1.43, service
 * "bedrock", the same request, body and clock), which also double-encodes the model id's colon.
 */
describe('Bedrock sign', () => {
  it('signs a ConverseStream request with a session token, exactly', () => {
    const credential: Credential = { ...AWS, sessionToken: 'FwoGZXIvYXdzEXAMPLEsessionTOKEN' };
    const request = chat({
      stream: true,
      maxOutputTokens: 256,
      sampling: { ...NO_SAMPLING, temperature: 0.2 },
      messages: [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] }, user('Hi')],
    });
    const signed = bedrockAdapter.sign!(prepare(request, target({ credential })), credential, new Date('2025-01-15T10:20:30Z'));
    expect(signed).toEqual({
      method: 'POST',
      origin: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream',
      headers: {
        'content-type': 'application/json',
        accept: 'application/vnd.amazon.eventstream',
        'accept-encoding': 'identity',
        'x-amz-date': '20250115T102030Z',
        'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLEsessionTOKEN',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0EXAMPLE0/20250115/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=2b9a340b65f6ae1d39260efd7496f12cad2ce9f6b5ee2346e0b9fff72b425697',
      },
      body: '{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"system":[{"text":"Be brief."}],"inferenceConfig":{"maxTokens":256,"temperature":0.2}}',
    });
  });

  it('signs a Converse call to an inference profile ARN in the credential\'s region, through an operator base URL with a port', () => {
    const credential: Credential = { ...AWS, region: 'eu-west-1' };
    const prepared = prepare(
      chat({ messages: [user('Hello')] }),
      target({
        origin: 'https://bedrock.internal.example:8443',
        basePath: '/proxy',
        upstreamModel: 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0',
        credential,
        extraHeaders: { 'X-Amz-Meta-Channel': 'ops', Authorization: 'stale' },
      }),
    );
    const signed = bedrockAdapter.sign!(prepared, credential, new Date('2025-06-01T00:00:00Z'));
    expect(signed.headers).toEqual({
      'X-Amz-Meta-Channel': 'ops',
      'content-type': 'application/json',
      accept: 'application/json',
      'accept-encoding': 'identity',
      'x-amz-date': '20250601T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0EXAMPLE0/20250601/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-meta-channel, Signature=d4b33a4a01bf99c4de53853e9f146f43dd9d2dafd5021353e31636594eb0498c',
    });
  });

  it('refuses to sign with a credential that is not an AWS one', () => {
    expect(() => bedrockAdapter.sign!(prepare(chat()), { kind: 'api_key', apiKey: 'sk-test-1234567890' }, new Date())).toThrow(TypeError);
  });
});
