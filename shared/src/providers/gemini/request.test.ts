import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatMessage, type ChatRequest } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { adapterFor } from '../registry.ts';
import { geminiAdapter } from './adapter.ts';
import { bodyJson, bodyText } from '../testing/requests.ts';

const KEY = 'AIzaSyTestKey0123456789abcdefghijklmnop';
const target: UpstreamTarget = {
  provider: 'google',
  origin: 'https://generativelanguage.googleapis.com',
  basePath: '/v1beta',
  upstreamModel: 'gemini-2.5-flash',
  credential: { kind: 'api_key', apiKey: KEY },
  extraHeaders: {},
};

function request(overrides: Partial<ChatRequest>): ChatRequest {
  return {
    model: 'resale/gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null }], tools: [], toolChoice: null, parallelToolCalls: null,
    responseFormat: null, sampling: { ...NO_SAMPLING }, maxOutputTokens: null, n: 1, stream: false, includeUsage: false, reasoningEffort: null, user: null,
    ...overrides,
  };
}

const prepare = (r: ChatRequest, t: UpstreamTarget = target): PreparedRequest => geminiAdapter.prepareChat(r, t);
const bodyOf = (p: PreparedRequest): unknown => bodyJson(p);
const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }], name: null });

/** Thrown by prepareChat, for assertions on the error's code, parameter and message together. */
function refusal(r: ChatRequest): { code: string; param: string | null; message: string } | string {
  try {
    prepare(r);
  } catch (error) {
    return error instanceof GatewayError ? { code: error.code, param: error.param, message: error.message } : String(error);
  }
  return 'not refused';
}

describe('Gemini adapter: registration', () => {
  it('is the adapter of the gemini protocol, with no passthrough format', () => {
    expect(adapterFor('gemini')).toBe(geminiAdapter);
    expect([geminiAdapter.protocol, geminiAdapter.nativeFormat]).toEqual(['gemini', null]);
  });
});

describe('Gemini adapter: prepareChat', () => {
  const rich = request({
    stream: true,
    includeUsage: true,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'You are a travel assistant.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather and time in Paris? Here are two photos.' }, { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', detail: null }, { type: 'image', url: 'https://example.com/photos/Eiffel.JPG?size=large', detail: 'high' }], name: 'ana' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: '' }] },
      {
        role: 'assistant', content: [{ type: 'text', text: 'Je regarde.' }], refusal: null, name: null,
        toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris, France"}' }, { id: 'call_2', name: 'get_local_time', arguments: '{"timezone":"Europe/Paris"}' }],
      },
      { role: 'tool', toolCallId: 'call_2', content: [{ type: 'text', text: '{"time":"14:05"}' }] },
      { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '18°C, ' }, { type: 'text', text: 'light rain' }] },
      user('Merci ! Et à Lyon ?'),
    ],
    tools: [
      { name: 'get_weather', description: 'Current weather for a place', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false }, strict: true },
      { name: 'get_local_time', description: null, parameters: {}, strict: null },
    ],
    toolChoice: { type: 'function', name: 'get_weather' },
    parallelToolCalls: false,
    responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { reply: { type: 'string' } }, required: ['reply'] }, strict: true, description: 'The reply' },
    sampling: { temperature: 0.4, topP: 0.9, frequencyPenalty: 0.2, presencePenalty: 0.1, seed: 2 ** 32 + 7, stop: ['END'], logprobs: true, topLogprobs: 3, logitBias: { '50256': -100 } },
    maxOutputTokens: 1024,
    n: 2,
    reasoningEffort: 'medium',
    user: 'user-42',
  });

  it('sends a rich request to streamGenerateContent with exactly this body', () => {
    const prepared = prepare(rich);
    expect([prepared.method, prepared.origin, prepared.path]).toEqual(['POST', 'https://generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse']);
    expect(bodyOf(prepared)).toEqual({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Weather and time in Paris? Here are two photos.' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/Eiffel.JPG?size=large' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'Je regarde.' },
            { functionCall: { name: 'get_weather', args: { location: 'Paris, France' } }, thoughtSignature: 'skip_thought_signature_validator' },
            { functionCall: { name: 'get_local_time', args: { timezone: 'Europe/Paris' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_local_time', response: { output: '{"time":"14:05"}' } } },
            { functionResponse: { name: 'get_weather', response: { output: '18°C, light rain' } } },
          ],
        },
        { role: 'user', parts: [{ text: 'Merci ! Et à Lyon ?' }] },
      ],
      systemInstruction: { parts: [{ text: 'You are a travel assistant.' }, { text: 'Answer in French.' }] },
      tools: [
        {
          functionDeclarations: [
            { name: 'get_weather', description: 'Current weather for a place', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false } },
            { name: 'get_local_time' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        temperature: 0.4,
        topP: 0.9,
        presencePenalty: 0.1,
        frequencyPenalty: 0.2,
        maxOutputTokens: 1024,
        stopSequences: ['END'],
        candidateCount: 2,
        seed: 7,
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { reply: { type: 'string' } }, required: ['reply'] },
        thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
      },
    });
  });

  it('sends the key only in the x-goog-api-key header, never in the URL or body', () => {
    const prepared = prepare(rich);
    expect(prepared.headers).toEqual({ 'x-goog-api-key': KEY, 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'identity' });
    expect([prepared.path.includes(KEY), bodyText(prepared).includes(KEY), prepared.path.includes('key=')]).toEqual([false, false, false]);
  });

  it('calls generateContent for a whole answer, and sends a minimal request with nothing but contents', () => {
    const prepared = prepare(request({}));
    expect([prepared.path, prepared.headers.accept]).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent', 'application/json']);
    expect(prepared.body).toBe('{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}');
  });

  it('escapes the model into one path segment and drops a models/ prefix', () => {
    expect(prepare(request({}), { ...target, upstreamModel: 'models/gemini-2.0-flash' }).path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(prepare(request({}), { ...target, upstreamModel: '../x?key=1#' }).path).toBe('/v1beta/models/..%2Fx%3Fkey%3D1%23:generateContent');
  });

  it("keeps an operator's extra headers but never lets one replace the adapter's own", () => {
    const prepared = prepare(request({}), { ...target, extraHeaders: { 'X-Goog-Api-Key': 'someone-else', Authorization: 'Bearer x', 'x-goog-user-project': 'billing-project' } });
    expect(prepared.headers).toEqual({ 'x-goog-user-project': 'billing-project', 'x-goog-api-key': KEY, 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'identity' });
  });

  it('refuses a credential that is not an API key', () => {
    expect(() => prepare(request({}), { ...target, credential: { kind: 'aws', accessKeyId: 'AKIA', secretAccessKey: 's', region: 'us-east-1', sessionToken: null } })).toThrow(TypeError);
  });
});

describe('Gemini adapter: tool results round trip', () => {
  const answer = geminiAdapter.parseChatResponse(new Uint8Array(readFileSync(join(import.meta.dirname, '__fixtures__', 'response-parallel-function-calls.json'))));
  const calls = answer.choices[0]?.toolCalls ?? [];

  it("names each functionResponse after the call with the same id, and replays the calls with Gemini's own signature", () => {
    const conversation = request({
      messages: [
        user('Weather and time in Paris?'),
        { role: 'assistant', content: [], toolCalls: calls, refusal: null, name: null },
        { role: 'tool', toolCallId: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_1', content: [{ type: 'text', text: '14:05' }] },
        { role: 'tool', toolCallId: 'call_Ab3dRmVyb0Jc-8QP4sKwqAw_0_0', content: [{ type: 'text', text: '18°C' }] },
      ],
    });
    expect(bodyOf(prepare(conversation))).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'Weather and time in Paris?' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'get_weather', args: { location: 'Paris, France' } }, thoughtSignature: calls[0]?.signature },
            { functionCall: { name: 'get_local_time', args: { timezone: 'Europe/Paris' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_local_time', response: { output: '14:05' } } },
            { functionResponse: { name: 'get_weather', response: { output: '18°C' } } },
          ],
        },
      ],
    });
  });

  it('takes the name from the nearest earlier call with that id, and gives each call turn its own signature', () => {
    const turn = (name: string): ChatMessage => ({ role: 'assistant', content: [], toolCalls: [{ id: 'call_0_0', name, arguments: 'not json' }], refusal: null, name: null });
    const result: ChatMessage = { role: 'tool', toolCallId: 'call_0_0', content: [{ type: 'text', text: 'ok' }] };
    const body = bodyOf(prepare(request({ messages: [user('go'), turn('first'), result, turn('second'), result] })));
    expect(body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'go' }] },
        { role: 'model', parts: [{ functionCall: { name: 'first', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'first', response: { output: 'ok' } } }] },
        { role: 'model', parts: [{ functionCall: { name: 'second', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'second', response: { output: 'ok' } } }] },
      ],
    });
  });

  it("sends a failed tool's text as the response's error", () => {
    const failed = request({
      messages: [user('go'), { role: 'assistant', content: [], toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }], refusal: null, name: null }, { role: 'tool', toolCallId: 'c1', content: [{ type: 'text', text: 'timeout' }], isError: true }],
    });
    expect((bodyOf(prepare(failed)) as { contents: unknown[] }).contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'f', response: { error: 'timeout' } } }] });
  });

  it('refuses a tool result that answers no earlier call, naming the message', () => {
    const orphan = request({ messages: [user('go'), { role: 'tool', toolCallId: 'call_9', content: [{ type: 'text', text: 'x' }] }] });
    expect(refusal(orphan)).toEqual({ code: 'invalid_request', param: 'messages[1].tool_call_id', message: 'The tool result in messages[1] answers no tool call of an earlier assistant message.' });
  });
});

describe('Gemini adapter: contents', () => {
  it('sends an assistant refusal as text, drops empty text parts and empty turns', () => {
    const body = bodyOf(prepare(request({ messages: [user('a'), { role: 'assistant', content: [{ type: 'text', text: '' }], toolCalls: [], refusal: "I can't.", name: null }, { role: 'assistant', content: [], toolCalls: [], refusal: null, name: null }, user('b')] })));
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: "I can't." }] }, { role: 'user', parts: [{ text: 'b' }] }] });
  });

  it('sends a conversation of system messages only as a user turn', () => {
    const body = bodyOf(prepare(request({ messages: [{ role: 'system', content: [{ type: 'text', text: 'Say hi.' }] }] })));
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] });
  });

  it.each([
    ['https://cdn.example.com/a.webp', { mimeType: 'image/webp', fileUri: 'https://cdn.example.com/a.webp' }],
    ['https://cdn.example.com/a.jpeg#frag', { mimeType: 'image/jpeg', fileUri: 'https://cdn.example.com/a.jpeg#frag' }],
    ['https://cdn.example.com/a.heic', { mimeType: 'image/heic', fileUri: 'https://cdn.example.com/a.heic' }],
    ['https://cdn.example.com/image?id=7', { fileUri: 'https://cdn.example.com/image?id=7' }],
    ['https://cdn.example.com/a.svg', { fileUri: 'https://cdn.example.com/a.svg' }],
  ])('sends the https image %s as fileData', (url, fileData) => {
    const body = bodyOf(prepare(request({ messages: [{ role: 'user', content: [{ type: 'image', url, detail: null }], name: null }] })));
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ fileData }] }] });
  });

  it('sends a base64 data URL with parameters as inlineData', () => {
    const body = bodyOf(prepare(request({ messages: [{ role: 'user', content: [{ type: 'image', url: 'data:Image/WEBP;name=x.webp;BASE64,UklGRg==', detail: 'low' }], name: null }] })));
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } }] }] });
  });

  it.each([
    ['a plain http URL', 'http://example.com/a.png', 'Images for Gemini models must be https URLs or base64 data URLs; plain http URLs are not fetched.'],
    ['a data URL that is not base64', 'data:image/svg+xml,%3Csvg%3E', 'Images for Gemini models must be https URLs or base64 data URLs with a media type.'],
    ['a data URL without a media type', 'data:;base64,AAAA', 'Images for Gemini models must be https URLs or base64 data URLs with a media type.'],
    ['a data URL without data', 'data:image/png;base64', 'Images for Gemini models must be https URLs or base64 data URLs with a media type.'],
  ])('refuses %s before any call', (_what, url, message) => {
    const r = request({ messages: [user('look'), { role: 'user', content: [{ type: 'text', text: 'this:' }, { type: 'image', url, detail: null }], name: null }] });
    expect(refusal(r)).toEqual({ code: 'unsupported_parameter', param: 'messages[1].content[1]', message });
  });
});

describe('Gemini adapter: generation settings', () => {
  const config = (r: Partial<ChatRequest>, model = 'gemini-2.5-flash'): unknown => (bodyOf(prepare(request(r), { ...target, upstreamModel: model })) as { generationConfig?: unknown }).generationConfig;

  it.each([
    ['gemini-2.5-flash', 'minimal', { thinkingBudget: 512, includeThoughts: true }],
    ['gemini-2.5-pro', 'low', { thinkingBudget: 1024, includeThoughts: true }],
    ['gemini-2.5-flash-lite', 'high', { thinkingBudget: 24576, includeThoughts: true }],
    ['gemini-3-pro-preview', 'minimal', { thinkingLevel: 'low', includeThoughts: true }],
    ['gemini-3-flash-preview', 'medium', { thinkingLevel: 'high', includeThoughts: true }],
    ['models/gemini-3.1-pro', 'high', { thinkingLevel: 'high', includeThoughts: true }],
  ] as const)('maps %s with effort %s to its thinking config', (model, reasoningEffort, thinkingConfig) => {
    expect(config({ reasoningEffort }, model)).toEqual({ thinkingConfig });
  });

  it.each(['gemini-2.0-flash', 'gemini-1.5-pro', 'gemini-flash-latest', 'learnlm-2.0-flash'])('sends no thinking config to %s, which does not take one or cannot be placed', (model) => {
    expect(config({ reasoningEffort: 'high' }, model)).toBeUndefined();
  });

  it('asks for JSON for json_object, and sends nothing for a text format', () => {
    expect(config({ responseFormat: { type: 'json_object' } })).toEqual({ responseMimeType: 'application/json' });
    expect(config({ responseFormat: { type: 'text' } })).toBeUndefined();
    expect(config({ responseFormat: { type: 'json_schema', name: 'x', schema: null, strict: null, description: null } })).toEqual({ responseMimeType: 'application/json' });
  });

  it('wraps a seed outside 32 bits the way ToInt32 does', () => {
    expect([-1, 2 ** 31, 2 ** 53 - 1].map((seed) => (config({ sampling: { ...NO_SAMPLING, seed } }) as { seed: number }).seed)).toEqual([-1, -(2 ** 31), -1]);
  });

  it.each([
    [{ type: 'auto' }, { mode: 'AUTO' }],
    [{ type: 'none' }, { mode: 'NONE' }],
    [{ type: 'required' }, { mode: 'ANY' }],
  ] as const)('maps tool choice %j to %j', (toolChoice, functionCallingConfig) => {
    const body = bodyOf(prepare(request({ tools: [{ name: 'f', description: null, parameters: null, strict: null }], toolChoice })));
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], tools: [{ functionDeclarations: [{ name: 'f' }] }], toolConfig: { functionCallingConfig } });
  });

  it('sends no tool config without tools', () => {
    expect(bodyOf(prepare(request({ toolChoice: { type: 'none' } })))).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });
});
