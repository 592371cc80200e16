import { channelCredentialAad, encodeCredential, sealSecret, usage, type ChannelRecord, type ProviderId, type Usage } from '@tollgate/shared';
import { channelRecord } from '../../data-plane/src/testing/fixture.ts';
import { startAnthropic, type AnthropicFake } from '../fakes/anthropic.ts';
import { startBedrock, type AwsKeys, type BedrockFake } from '../fakes/bedrock.ts';
import { startGemini, type GeminiFake } from '../fakes/gemini.ts';
import { startResponses, type ResponsesFake } from '../fakes/openai-responses.ts';
import { answer, startUpstream, type FakeUpstream } from '../fakes/upstream.ts';
import { ANSWER, CALLS, IMAGE_URL, PNG_BASE64, QUESTION, SYSTEM, TOOLS } from './conversation.ts';

/**
 * One upstream protocol in the golden suite: its fake, the golden answers in its own wire format
 * (with the usage it reports, and the canonical usage that must be billed for it), and how the
 * conversation must look in the requests it receives (its native form of the system prompt, the
 * image, the tool calls and results, the tools).
 */
export interface GoldenUpstream {
  protocol: 'openai' | 'anthropic' | 'gemini' | 'bedrock' | 'openai-responses';
  provider: ProviderId;
  /** The public model routed to it. */
  model: string;
  /** Queues the answers to the two turns; the first says `preamble` before its calls, or nothing. */
  script(preamble: string | null): void;
  /** Every request received so far: how it came on the wire, and its body. */
  received(): { wire: unknown; body: unknown }[];
  expectedWire(stream: boolean): unknown;
  /** The call ids a client sees (the provider's own, or derived where it gives none). */
  callIds: readonly [string, string];
  /** What must be billed for each turn, from what the fake reports. */
  billed: readonly [Usage, Usage];
  /** The conversation part of a request body, in the protocol's own terms. */
  view(body: unknown): unknown;
  /** The views of both turns' requests, given the image detail the client sent and the first answer's preamble. */
  expected(imageDetail: 'auto' | null, preamble: string | null): [unknown, unknown];
}

export const KEYS = {
  openai: 'sk-golden-openai-0123',
  anthropic: 'sk-ant-golden-0123456789',
  gemini: 'AIzaGoldenKey0123456789abcdef',
  responses: 'sk-golden-responses-0123',
  aws: { accessKeyId: 'AKIAGOLDEN0123456789', secretAccessKey: 'golden/Secret+Access/Key0123456789abcdef', region: 'eu-west-3' } satisfies AwsKeys,
};

export const UPSTREAM_MODELS = {
  openai: 'gpt-4o-2024-08-06',
  anthropic: 'claude-sonnet-4-5-20250929',
  gemini: 'gemini-2.5-flash',
  bedrock: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'openai-responses': 'gpt-4.1-2025-04-14',
} as const;

export const publicModel = (protocol: GoldenUpstream['protocol']): string => `golden-${protocol}`;

const toolViews = TOOLS.map((t) => [t.name, t.parameters]);
const args = (i: number): string => JSON.stringify(CALLS[i]!.input);

/** Reads one field of JSON the fakes recorded, whatever its shape. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[key] : undefined;
  return v;
}
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** `[block]` when there is a preamble to say, else nothing. */
const said = <T>(preamble: string | null, block: (text: string) => T): T[] => (preamble === null ? [] : [block(preamble)]);

function openai(fake: FakeUpstream): GoldenUpstream {
  const ids = ['call_W7qLx2aP9dE4', 'call_T3mNv8sK1rB6'] as const;
  const turnOne = (detail: 'auto' | null) => [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: [{ type: 'text', text: QUESTION }, { type: 'image_url', image_url: { url: IMAGE_URL, ...(detail !== null ? { detail } : {}) } }] },
  ];
  return {
    protocol: 'openai',
    provider: 'openai',
    model: publicModel('openai'),
    script: (preamble) =>
      fake.enqueue(
        answer({ reply: preamble ?? '', toolCalls: CALLS.map((c, i) => ({ id: ids[i], name: c.name, arguments: args(i) })), usage: { promptTokens: 1224, completionTokens: 58, cachedTokens: 1024, reasoningTokens: 18 } }),
        answer({ reply: ANSWER, usage: { promptTokens: 1311, completionTokens: 31, cachedTokens: 1152, reasoningTokens: 7 } }),
      ),
    received: () => fake.requests.map((r) => ({ wire: [r.path, r.headers.authorization, r.body?.stream === true], body: r.body })),
    expectedWire: (stream) => ['/v1/chat/completions', `Bearer ${KEYS.openai}`, stream],
    callIds: ids,
    billed: [usage({ input: 200, cachedInput: 1024, output: 40, reasoning: 18 }), usage({ input: 159, cachedInput: 1152, output: 24, reasoning: 7 })],
    view: (body) => ({ messages: at(body, 'messages'), tools: list(at(body, 'tools')).map((t) => [at(t, 'function', 'name'), at(t, 'function', 'parameters')]) }),
    expected: (detail, preamble) => [
      { messages: turnOne(detail), tools: toolViews },
      {
        messages: [
          ...turnOne(detail),
          { role: 'assistant', content: preamble, tool_calls: CALLS.map((c, i) => ({ id: ids[i], type: 'function', function: { name: c.name, arguments: args(i) } })) },
          ...CALLS.map((c, i) => ({ role: 'tool', tool_call_id: ids[i], content: c.result })),
        ],
        tools: toolViews,
      },
    ],
  };
}

function anthropic(fake: AnthropicFake): GoldenUpstream {
  const ids = ['toolu_01WeatherGolden7fQ', 'toolu_01TimeGolden2kP'] as const;
  const turnOne = [{ role: 'user', content: [{ type: 'text', text: QUESTION }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }] }];
  return {
    protocol: 'anthropic',
    provider: 'anthropic',
    model: publicModel('anthropic'),
    script: (preamble) =>
      fake.enqueue(
        {
          content: [...said(preamble, (text) => ({ type: 'text' as const, text })), ...CALLS.map((c, i) => ({ type: 'tool_use' as const, id: ids[i]!, name: c.name, input: { ...c.input } }))],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 180, cache_read_input_tokens: 1024, cache_creation_input_tokens: 64, output_tokens: 70 },
        },
        { content: [{ type: 'text', text: ANSWER }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 95, cache_read_input_tokens: 1088, cache_creation_input_tokens: 0, output_tokens: 33 } },
      ),
    received: () => fake.requests.map((r) => ({ wire: [r.path, r.query.toString(), r.headers['x-api-key'], r.headers['anthropic-version'], at(r.body, 'stream') === true], body: r.body })),
    expectedWire: (stream) => ['/v1/messages', '', KEYS.anthropic, '2023-06-01', stream],
    callIds: ids,
    billed: [usage({ input: 180, cachedInput: 1024, cacheWrite: 64, output: 70 }), usage({ input: 95, cachedInput: 1088, output: 33 })],
    view: (body) => ({ system: at(body, 'system'), messages: at(body, 'messages'), tools: list(at(body, 'tools')).map((t) => [at(t, 'name'), at(t, 'input_schema')]) }),
    expected: (_detail, preamble) => [
      { system: [{ type: 'text', text: SYSTEM }], messages: turnOne, tools: toolViews },
      {
        system: [{ type: 'text', text: SYSTEM }],
        messages: [
          ...turnOne,
          { role: 'assistant', content: [...said(preamble, (text) => ({ type: 'text', text })), ...CALLS.map((c, i) => ({ type: 'tool_use', id: ids[i], name: c.name, input: c.input }))] },
          { role: 'user', content: CALLS.map((c, i) => ({ type: 'tool_result', tool_use_id: ids[i], content: [{ type: 'text', text: c.result }] })) },
        ],
        tools: toolViews,
      },
    ],
  };
}

function gemini(fake: GeminiFake): GoldenUpstream {
  const responseId = 'GoldenTurnOne';
  const signature = 'CiQB0e2Kb7GoldenThoughtSignatureQ3mZx1c0FqVh8yG2sZkq9Xb';
  const turnOne = [{ role: 'user', parts: [{ text: QUESTION }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }] }];
  const system = { parts: [{ text: SYSTEM }] };
  return {
    protocol: 'gemini',
    provider: 'google',
    model: publicModel('gemini'),
    script: (preamble) =>
      fake.enqueue(
        {
          responseId,
          parts: [...said(preamble, (text) => ({ text })), ...CALLS.map((c, i) => ({ functionCall: { name: c.name, args: { ...c.input } }, ...(i === 0 ? { thoughtSignature: signature } : {}) }))],
          finishReason: 'STOP',
          usageMetadata: { promptTokenCount: 1290, cachedContentTokenCount: 1024, candidatesTokenCount: 41, thoughtsTokenCount: 64 },
        },
        { parts: [{ text: ANSWER }], finishReason: 'STOP', usageMetadata: { promptTokenCount: 1350, cachedContentTokenCount: 1024, candidatesTokenCount: 22, thoughtsTokenCount: 12 } },
      ),
    received: () => fake.requests.map((r) => ({ wire: [r.path, r.query.toString(), r.headers['x-goog-api-key']], body: r.body })),
    // The key only ever in its header: the query is exactly `alt=sse` on streams and empty otherwise.
    expectedWire: (stream) => [`/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent' : 'generateContent'}`, stream ? 'alt=sse' : '', KEYS.gemini],
    // Gemini names no call ids: the gateway derives them from the response id, the same streamed or not.
    callIds: [`call_${responseId}_0_0`, `call_${responseId}_0_1`],
    billed: [usage({ input: 266, cachedInput: 1024, output: 41, reasoning: 64 }), usage({ input: 326, cachedInput: 1024, output: 22, reasoning: 12 })],
    view: (body) => ({
      systemInstruction: at(body, 'systemInstruction'),
      contents: at(body, 'contents'),
      tools: list(at(body, 'tools', 0, 'functionDeclarations')).map((d) => [at(d, 'name'), at(d, 'parametersJsonSchema')]),
    }),
    expected: (_detail, preamble) => [
      { systemInstruction: system, contents: turnOne, tools: toolViews },
      {
        systemInstruction: system,
        contents: [
          ...turnOne,
          {
            role: 'model',
            // No client format carries Gemini's thought signature back: the first call gets Google's documented stand-in.
            parts: [...said(preamble, (text) => ({ text })), ...CALLS.map((c, i) => ({ functionCall: { name: c.name, args: c.input }, ...(i === 0 ? { thoughtSignature: 'skip_thought_signature_validator' } : {}) }))],
          },
          { role: 'user', parts: CALLS.map((c) => ({ functionResponse: { name: c.name, response: { output: c.result } } })) },
        ],
        tools: toolViews,
      },
    ],
  };
}

function bedrock(fake: BedrockFake): GoldenUpstream {
  const ids = ['tooluse_WeatherGolden01aB', 'tooluse_TimeGolden02cD'] as const;
  const turnOne = [{ role: 'user', content: [{ text: QUESTION }, { image: { format: 'png', source: { bytes: PNG_BASE64 } } }] }];
  return {
    protocol: 'bedrock',
    provider: 'bedrock',
    model: publicModel('bedrock'),
    script: (preamble) =>
      fake.enqueue(
        {
          content: [...said(preamble, (text) => ({ text })), ...CALLS.map((c, i) => ({ toolUse: { toolUseId: ids[i]!, name: c.name, input: { ...c.input } } }))],
          stopReason: 'tool_use',
          usage: { inputTokens: 190, outputTokens: 66, cacheReadInputTokens: 1024, cacheWriteInputTokens: 32 },
        },
        { content: [{ text: ANSWER }], stopReason: 'end_turn', usage: { inputTokens: 120, outputTokens: 29, cacheReadInputTokens: 1056, cacheWriteInputTokens: 0 } },
      ),
    received: () => fake.requests.map((r, i) => ({ wire: [r.path, r.query.toString(), fake.checks[i], r.headers.accept], body: r.body })),
    // The model id's `:` travels encoded in its path segment; the signature covers it encoded once more.
    expectedWire: (stream) => [
      `/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/${stream ? 'converse-stream' : 'converse'}`,
      '',
      { ok: true, reason: null },
      stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    ],
    callIds: ids,
    billed: [usage({ input: 190, cachedInput: 1024, cacheWrite: 32, output: 66 }), usage({ input: 120, cachedInput: 1056, output: 29 })],
    view: (body) => ({ system: at(body, 'system'), messages: at(body, 'messages'), tools: list(at(body, 'toolConfig', 'tools')).map((t) => [at(t, 'toolSpec', 'name'), at(t, 'toolSpec', 'inputSchema', 'json')]) }),
    expected: (_detail, preamble) => [
      { system: [{ text: SYSTEM }], messages: turnOne, tools: toolViews },
      {
        system: [{ text: SYSTEM }],
        messages: [
          ...turnOne,
          { role: 'assistant', content: [...said(preamble, (text) => ({ text })), ...CALLS.map((c, i) => ({ toolUse: { toolUseId: ids[i], name: c.name, input: c.input } }))] },
          { role: 'user', content: CALLS.map((c, i) => ({ toolResult: { toolUseId: ids[i], content: [{ text: c.result }] } })) },
        ],
        tools: toolViews,
      },
    ],
  };
}

function responses(fake: ResponsesFake): GoldenUpstream {
  const ids = ['call_WeatherGoldenR5t', 'call_TimeGoldenR8u'] as const;
  const turnOne = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: QUESTION }, { type: 'input_image', image_url: IMAGE_URL, detail: 'auto' }] }];
  return {
    protocol: 'openai-responses',
    provider: 'openai-responses',
    model: publicModel('openai-responses'),
    script: (preamble) =>
      fake.enqueue(
        {
          output: [...said(preamble, (text) => ({ type: 'message' as const, text })), ...CALLS.map((c, i) => ({ type: 'function_call' as const, call_id: ids[i]!, name: c.name, arguments: args(i) }))],
          usage: { input_tokens: 1230, cached_tokens: 1024, output_tokens: 75, reasoning_tokens: 30 },
        },
        { output: [{ type: 'message', text: ANSWER }], usage: { input_tokens: 1302, cached_tokens: 1152, output_tokens: 26, reasoning_tokens: 0 } },
      ),
    received: () => fake.requests.map((r) => ({ wire: [r.path, r.headers.authorization, at(r.body, 'stream') === true, at(r.body, 'store')], body: r.body })),
    expectedWire: (stream) => ['/v1/responses', `Bearer ${KEYS.responses}`, stream, false],
    callIds: ids,
    billed: [usage({ input: 206, cachedInput: 1024, output: 45, reasoning: 30 }), usage({ input: 150, cachedInput: 1152, output: 26 })],
    view: (body) => ({ instructions: at(body, 'instructions'), input: at(body, 'input'), tools: list(at(body, 'tools')).map((t) => [at(t, 'name'), at(t, 'parameters')]) }),
    expected: (_detail, preamble) => [
      { instructions: SYSTEM, input: turnOne, tools: toolViews },
      {
        instructions: SYSTEM,
        input: [
          ...turnOne,
          ...said(preamble, (text) => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] })),
          ...CALLS.map((c, i) => ({ type: 'function_call', call_id: ids[i], name: c.name, arguments: args(i) })),
          ...CALLS.map((c, i) => ({ type: 'function_call_output', call_id: ids[i], output: c.result })),
        ],
        tools: toolViews,
      },
    ],
  };
}

export interface GoldenFakes {
  openai: FakeUpstream;
  anthropic: AnthropicFake;
  gemini: GeminiFake;
  bedrock: BedrockFake;
  responses: ResponsesFake;
}

export async function startFakes(): Promise<GoldenFakes> {
  const [openaiFake, anthropicFake, geminiFake, bedrockFake, responsesFake] = await Promise.all([
    startUpstream(),
    startAnthropic({ apiKey: KEYS.anthropic }),
    startGemini({ apiKey: KEYS.gemini }),
    startBedrock(KEYS.aws),
    startResponses({ apiKey: KEYS.responses }),
  ]);
  return { openai: openaiFake, anthropic: anthropicFake, gemini: geminiFake, bedrock: bedrockFake, responses: responsesFake };
}

export function goldenUpstreams(f: GoldenFakes): GoldenUpstream[] {
  return [openai(f.openai), anthropic(f.anthropic), gemini(f.gemini), bedrock(f.bedrock), responses(f.responses)];
}

/** A Bedrock channel: its credential is the JSON of AWS keys, its base URL the fake's. */
export function bedrockChannel(masterKey: Buffer, id: string, baseUrl: string, keys: AwsKeys): ChannelRecord {
  const credential = encodeCredential({ kind: 'aws', ...keys, sessionToken: null });
  return { ...channelRecord(masterKey, id, { baseUrl, provider: 'bedrock' }), credentialSealed: sealSecret(masterKey, credential, channelCredentialAad(id)) };
}

/** The operator channels of the five fakes, one per protocol, named after it. */
export function goldenChannels(masterKey: Buffer, f: GoldenFakes): ChannelRecord[] {
  return [
    channelRecord(masterKey, 'openai', { baseUrl: f.openai.url, apiKey: KEYS.openai }),
    channelRecord(masterKey, 'anthropic', { baseUrl: f.anthropic.url, provider: 'anthropic', apiKey: KEYS.anthropic }),
    channelRecord(masterKey, 'gemini', { baseUrl: f.gemini.url, provider: 'google', apiKey: KEYS.gemini }),
    bedrockChannel(masterKey, 'bedrock', f.bedrock.url, KEYS.aws),
    channelRecord(masterKey, 'openai-responses', { baseUrl: f.responses.url, provider: 'openai-responses', apiKey: KEYS.responses }),
  ];
}
