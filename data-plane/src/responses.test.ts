import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelCredentialAad, encodeCredential, sealSecret, usage, type ChannelRecord } from '@tollgate/shared';
import OpenAI from 'openai';
import type { Response, ResponseFunctionToolCall, ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, rawBytes, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'shared', 'src', 'providers', 'openai-responses', '__fixtures__');
const capture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const PRICE = price(1_000_000_000n, 2_000_000_000n);
const AZURE_KEY = '0123456789abcdef0123456789abcdef';
const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };

/** An operator channel of an Azure provider: its credential names a resource its base URL overrides (a local fake here). */
function azureChannel(masterKey: Buffer, id: string, provider: 'azure' | 'azure-responses', baseUrl: string): ChannelRecord {
  const credential = { kind: 'azure' as const, endpoint: 'https://my-resource.openai.azure.com', apiKey: AZURE_KEY, apiVersion: '2024-10-21', deployment: null };
  return { ...channelRecord(masterKey, id, { baseUrl, provider }), credentialSealed: sealSecret(masterKey, encodeCredential(credential), channelCredentialAad(id)) };
}

/** `store`, which the Responses API still reports and this SDK version's types no longer name. */
const stored = (response: Response): unknown => (response as unknown as { store?: unknown }).store;

/** A response's meaning, without the ids each path mints for its items. */
function meaning(response: Response) {
  return {
    status: response.status,
    incomplete: response.incomplete_details,
    text: response.output_text,
    output: response.output.map((item) => {
      switch (item.type) {
        case 'message':
          return { type: 'message', content: item.content };
        case 'function_call':
          return { type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments };
        case 'reasoning':
          return { type: 'reasoning', summary: item.summary };
        default:
          return { type: item.type };
      }
    }),
    usage: response.usage,
  };
}

/**
 * `POST /v1/responses` through the official OpenAI SDK: against an OpenAI-compatible upstream
 * (translated both ways), a Responses-speaking one (passed through, and pinned to the general path),
 * and Azure channels of both protocols.
 */
describe('the OpenAI Responses endpoint', () => {
  let gw: Gateway;
  let general: Gateway;
  let chat: FakeUpstream;
  let responses: FakeUpstream;
  let azure: FakeUpstream;
  let client: OpenAI;
  let generalClient: OpenAI;
  let orgId: string;

  const publish = async (g: Gateway): Promise<void> => {
    await g.publish({
      channels: [
        channelRecord(g.masterKey, 'oa', { baseUrl: chat.url, apiKey: 'sk-openai-channel-key' }),
        channelRecord(g.masterKey, 'rs', { baseUrl: responses.url, provider: 'openai-responses', apiKey: 'sk-responses-channel-key' }),
        azureChannel(g.masterKey, 'az', 'azure', azure.origin),
        azureChannel(g.masterKey, 'azr', 'azure-responses', azure.origin),
      ],
      models: [
        modelRoute('via-chat', { prices: { resale: PRICE }, targets: [{ channelId: 'oa', upstreamModel: 'gpt-up' }] }),
        modelRoute('via-responses', { prices: { resale: PRICE }, targets: [{ channelId: 'rs', upstreamModel: 'gpt-4.1' }] }),
        modelRoute('via-azure', { prices: { resale: PRICE }, targets: [{ channelId: 'az', upstreamModel: 'gpt-4o-prod' }] }),
        modelRoute('via-azure-responses', { prices: { resale: PRICE }, targets: [{ channelId: 'azr', upstreamModel: 'gpt-41-prod' }] }),
      ],
    });
  };

  beforeAll(async () => {
    chat = await startUpstream();
    responses = await startUpstream();
    azure = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1]);
    general = await startGateway(storeAdapters[0]![1], { passthrough: false });
    await publish(gw);
    await publish(general);
    const customer = await gw.customer(100_000_000_000n);
    orgId = customer.orgId;
    client = new OpenAI({ apiKey: customer.key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
    generalClient = new OpenAI({ apiKey: (await general.customer(100_000_000_000n)).key.secret, baseURL: `${general.base}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await general?.stop();
    await chat?.close();
    await responses?.close();
    await azure?.close();
  });

  it('answers a Responses client from an OpenAI-compatible provider, and bills the reported usage', async () => {
    chat.enqueue(answer({ reply: 'Bonjour!', usage: { promptTokens: 12, completionTokens: 4, cachedTokens: 2 } }));
    const { data: response, response: http } = await client.responses
      .create({ model: 'via-chat', instructions: 'Be brief.', input: 'Say hello in French', max_output_tokens: 100, temperature: 0.5 })
      .withResponse();
    expect([response.object, response.status, response.output_text, stored(response), response.usage]).toEqual([
      'response',
      'completed',
      'Bonjour!',
      false,
      { input_tokens: 12, input_tokens_details: { cached_tokens: 2 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 16 },
    ]);
    expect(chat.requests.at(-1)!.body).toEqual({
      model: 'gpt-up',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello in French' },
      ],
      max_completion_tokens: 100,
      temperature: 0.5,
    });
    const event = await gw.settled(http.headers.get('x-request-id')!);
    expect([event.endpoint, event.usageSource, event.usage, event.status]).toEqual(['responses', 'reported', usage({ input: 10, cachedInput: 2, output: 4 }), 'ok']);
  });

  it('streams a function call to a Responses client, and takes its output back in the next turn with the same call id', async () => {
    chat.enqueue(answer({ reply: '', toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}', argumentChunks: 3 }], usage: { promptTokens: 30, completionTokens: 9 } }));
    const stream = client.responses.stream({ model: 'via-chat', input: 'Weather in Paris?', tools: [WEATHER_TOOL] });
    const types: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    const first = await stream.finalResponse();
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const call = first.output[0] as ResponseFunctionToolCall;
    expect([first.status, first.output.length, call.type, call.call_id, call.name, call.arguments]).toEqual(['completed', 1, 'function_call', 'call_abc', 'get_weather', '{"city":"Paris"}']);
    expect(chat.requests.at(-1)!.body).toEqual({
      model: 'gpt-up',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.parameters, strict: false } }],
    });

    chat.enqueue(answer({ reply: 'It is 18°C in Paris.' }));
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":18}' }];
    const second = await client.responses.create({ model: 'via-chat', input, tools: [WEATHER_TOOL] });
    expect(second.output_text).toBe('It is 18°C in Paris.');
    expect(chat.requests.at(-1)!.body!.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"celsius":18}' },
    ]);
  });

  it('passes a Responses provider’s answer through, asking it to store nothing, with the channel key as a bearer', async () => {
    responses.enqueue(rawBytes([capture('response-text.json')], { headers: { 'content-type': 'application/json' } }));
    const { data: response, response: http } = await client.responses.create({ model: 'via-responses', input: 'Capital of France?', store: true }).withResponse();
    expect([response.id, response.output_text, stored(response)]).toEqual(['resp_68b1c0ffee0010whole', 'Paris is the capital of France.', false]);
    const upstream = responses.requests.at(-1)!;
    expect([upstream.path, upstream.headers.authorization, upstream.body]).toEqual([
      '/v1/responses',
      'Bearer sk-responses-channel-key',
      { model: 'gpt-4.1', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Capital of France?' }] }], store: false },
    ]);
    const event = await gw.settled(http.headers.get('x-request-id')!);
    expect([event.provider, event.usage]).toEqual(['openai-responses', usage({ input: 14, output: 8 })]);
  });

  it('passes a Responses provider’s stream through event for event', async () => {
    responses.enqueue(rawBytes([capture('responses-stream-function-calls.sse')]));
    const { data: stream, response: http } = await client.responses.create({ model: 'via-responses', input: 'Weather and time in Paris?', tools: [WEATHER_TOOL], stream: true }).withResponse();
    const events: unknown[] = [];
    for await (const event of stream) events.push(event);
    const recorded = capture('responses-stream-function-calls.sse')
      .toString('utf8')
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice('data: '.length)) as unknown);
    expect(events).toEqual(recorded);
    const sent = responses.requests.at(-1)!.body!;
    expect([sent.stream, sent.store]).toEqual([true, false]);
    const event = await gw.settled(http.headers.get('x-request-id')!);
    expect([event.stream, event.usageSource, event.usage, event.status]).toEqual([true, 'reported', usage({ input: 82, output: 47 }), 'ok']);
  });

  it.each(['responses-stream-text.sse', 'responses-stream-function-calls.sse', 'responses-stream-reasoning.sse', 'responses-stream-refusal.sse', 'responses-stream-incomplete.sse'])(
    'means the same through the passthrough path and the general path: %s',
    async (file) => {
      responses.enqueue(rawBytes([capture(file)]), rawBytes([capture(file)]));
      const fast = await client.responses.stream({ model: 'via-responses', input: 'x' }).finalResponse();
      const slow = await generalClient.responses.stream({ model: 'via-responses', input: 'x' }).finalResponse();
      expect(meaning(slow)).toEqual(meaning(fast));
      expect(slow.id).toBe(fast.id);
    },
  );

  it('ends a stream the provider broke after content with response.failed and an error the SDK throws, in our words', async () => {
    responses.enqueue(rawBytes([capture('responses-stream-failed.sse')]));
    const stream = await client.responses.create({ model: 'via-responses', input: 'Tell me a story', stream: true });
    const types: string[] = [];
    const thrown = await (async () => {
      try {
        for await (const event of stream) types.push(event.type);
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(types.slice(-3)).toEqual(['response.output_text.delta', 'response.output_item.done', 'response.failed']);
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect((thrown as InstanceType<typeof OpenAI.APIError>).message).toBe('The provider failed while streaming; the answer is incomplete.');
  });

  it('sends Azure chat channels to the deployment URL with the api-version and the api-key header', async () => {
    azure.enqueue(answer({ reply: 'Hi from Azure', usage: { promptTokens: 5, completionTokens: 3 } }));
    const response = await client.responses.create({ model: 'via-azure', input: 'Hi', max_output_tokens: 64 });
    expect(response.output_text).toBe('Hi from Azure');
    const upstream = azure.requests.at(-1)!;
    expect([upstream.method, upstream.path, upstream.headers['api-key'], upstream.headers.authorization, upstream.body]).toEqual([
      'POST',
      '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
      AZURE_KEY,
      undefined,
      { model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 64 },
    ]);
  });

  it('sends Azure Responses channels to the v1 Responses API with the deployment as the model', async () => {
    azure.enqueue(rawBytes([capture('response-text.json')], { headers: { 'content-type': 'application/json' } }));
    const response = await client.responses.create({ model: 'via-azure-responses', input: 'Capital of France?' });
    expect(response.output_text).toBe('Paris is the capital of France.');
    const upstream = azure.requests.at(-1)!;
    expect([upstream.path, upstream.headers['api-key'], upstream.headers.authorization, upstream.body]).toEqual([
      '/openai/v1/responses',
      AZURE_KEY,
      undefined,
      { model: 'gpt-41-prod', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Capital of France?' }] }], store: false },
    ]);
  });

  it('answers errors in the Responses API’s shape, refusing stored state and built-in tools before anything is spent', async () => {
    const before = (await gw.store.getBalance(orgId))!.balance;
    const seen = chat.requests.length + responses.requests.length;
    const bad = new OpenAI({ apiKey: 'tg_not-a-real-key', baseURL: `${gw.base}/v1`, maxRetries: 0 });
    await expect(bad.responses.create({ model: 'via-chat', input: 'x' })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key', type: 'authentication_error' });
    await expect(client.responses.create({ model: 'via-chat', input: 'x', previous_response_id: 'resp_1' })).rejects.toMatchObject({
      status: 400,
      code: 'unsupported_parameter',
      param: 'previous_response_id',
      type: 'invalid_request_error',
    });
    await expect(client.responses.create({ model: 'via-responses', input: 'x', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'tools[0].type' });
    await expect(client.responses.create({ model: 'nope', input: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    expect((await gw.store.getBalance(orgId))!.balance).toBe(before);
    expect(chat.requests.length + responses.requests.length).toBe(seen);
  });
});
