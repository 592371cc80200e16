import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { usage } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropic, type AnthropicAnswer, type AnthropicFake } from '../../test/fakes/anthropic.ts';
import { answer, rawBytes, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'shared', 'src', 'providers', 'anthropic', '__fixtures__');
const PRICE = price(1_000_000_000n, 2_000_000_000n);

/**
 * `POST /v1/messages` through the official Anthropic SDK: against an OpenAI-compatible upstream
 * (translated both ways) and against an Anthropic upstream (passed through), metered the same way.
 */
describe('the Anthropic Messages endpoint', () => {
  let gw: Gateway;
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let client: Anthropic;
  let orgId: string;

  beforeAll(async () => {
    openai = await startUpstream();
    anthropic = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1]);
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'oa', { baseUrl: openai.url, apiKey: 'sk-openai-channel-key' }),
        channelRecord(gw.masterKey, 'an', { baseUrl: anthropic.url, provider: 'anthropic', apiKey: 'sk-ant-channel-key-123' }),
      ],
      models: [
        modelRoute('via-openai', { prices: { resale: PRICE }, targets: [{ channelId: 'oa', upstreamModel: 'gpt-up' }] }),
        modelRoute('claude', { prices: { resale: PRICE }, targets: [{ channelId: 'an', upstreamModel: 'claude-haiku-4-5' }] }),
      ],
    });
    const customer = await gw.customer(100_000_000_000n);
    orgId = customer.orgId;
    // The SDK sends the key as x-api-key, as it does to Anthropic.
    client = new Anthropic({ apiKey: customer.key.secret, baseURL: gw.base, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await anthropic?.close();
  });

  it('answers an Anthropic client from an OpenAI-compatible provider, and bills the reported usage', async () => {
    openai.enqueue(answer({ reply: 'Bonjour!', usage: { promptTokens: 12, completionTokens: 4 } }));
    const { data: message, response } = await client.messages
      .create({ model: 'via-openai', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello in French' }] })
      .withResponse();
    expect(message).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Bonjour!' }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 4 } });
    const sent = openai.requests.at(-1)!.body!;
    expect(sent).toMatchObject({ model: 'gpt-up', max_completion_tokens: 100, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello in French' }] });
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ endpoint: 'messages', usageSource: 'reported', usage: usage({ input: 12, output: 4 }), status: 'ok' });
  });

  it('streams tool calls to an Anthropic client as tool_use blocks with their ids', async () => {
    openai.enqueue(answer({ reply: '', toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}', argumentChunks: 3 }] }));
    const stream = client.messages.stream({
      model: 'via-openai', max_tokens: 200,
      tools: [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }]);
    expect(openai.requests.at(-1)!.body!.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]);
  });

  it('passes an Anthropic provider’s answer through to an Anthropic client, with the channel key as x-api-key', async () => {
    anthropic.enqueue(rawBytes([readFileSync(join(FIXTURES, 'message-text.json'))], { headers: { 'content-type': 'application/json' } }));
    const message = await client.messages.create({ model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'Capital of France?' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'Paris is the capital of France.' }]);
    const upstream = anthropic.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/messages');
    expect([upstream.headers['x-api-key'], upstream.headers['anthropic-version'], upstream.headers.authorization]).toEqual(['sk-ant-channel-key-123', '2023-06-01', undefined]);

    anthropic.enqueue(rawBytes([readFileSync(join(FIXTURES, 'messages-stream-text.sse'))]));
    const streamed = await client.messages.stream({ model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: 'text' });
    expect(streamed.usage.output_tokens).toBeGreaterThan(0);
  });

  it('answers errors in Anthropic’s shape, and never the provider’s', async () => {
    const bad = new Anthropic({ apiKey: 'tg_not-a-real-key', baseURL: gw.base, maxRetries: 0 });
    await expect(bad.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 401, error: { type: 'error', error: { type: 'authentication_error' } },
    });
    await expect(client.messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 404, error: { type: 'error', error: { type: 'not_found_error' } },
    });
    const before = (await gw.store.getBalance(orgId))!.balance;
    await expect(client.messages.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming)).rejects.toMatchObject({
      status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } },
    });
    expect((await gw.store.getBalance(orgId))!.balance).toBe(before);
  });
});

/**
 * An Anthropic upstream that stopped on a stop sequence: the client hears which one, streamed (in
 * message_delta) and not, whether the answer was passed through or rendered from canonical events.
 */
describe.each([
  ['passed through', true],
  ['translated', false],
])('the Anthropic Messages endpoint, %s, on a stop sequence', (_name, passthrough) => {
  let gw: Gateway;
  let anthropic: AnthropicFake;
  let client: Anthropic;
  const stopped: AnthropicAnswer = { content: [{ type: 'text', text: 'Paris' }], stop_reason: 'stop_sequence', stop_sequence: '###', usage: { input_tokens: 12, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } };
  const params = { model: 'claude', max_tokens: 50, stop_sequences: ['###', 'END'], messages: [{ role: 'user' as const, content: 'Capital of France, then ###' }] };

  beforeAll(async () => {
    anthropic = await startAnthropic({ apiKey: 'sk-ant-channel-key-123' });
    gw = await startGateway(storeAdapters[0]![1], { passthrough });
    await gw.publish({
      channels: [channelRecord(gw.masterKey, 'an', { baseUrl: anthropic.url, provider: 'anthropic', apiKey: 'sk-ant-channel-key-123' })],
      models: [modelRoute('claude', { prices: { resale: PRICE }, targets: [{ channelId: 'an', upstreamModel: 'claude-haiku-4-5' }] })],
    });
    client = new Anthropic({ apiKey: (await gw.customer(100_000_000_000n)).key.secret, baseURL: gw.base, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await anthropic?.close();
  });

  it('says stop_sequence and names the sequence in a whole message', async () => {
    anthropic.enqueue(stopped);
    const message = await client.messages.create(params);
    expect([message.content, message.stop_reason, message.stop_sequence]).toEqual([[{ type: 'text', text: 'Paris' }], 'stop_sequence', '###']);
    expect((anthropic.requests.at(-1)!.body as { stop_sequences?: unknown }).stop_sequences).toEqual(['###', 'END']);
  });

  it('says stop_sequence and names the sequence in the stream’s message_delta', async () => {
    anthropic.enqueue(stopped);
    const deltas: unknown[] = [];
    for await (const event of await client.messages.create({ ...params, stream: true })) if (event.type === 'message_delta') deltas.push(event.delta);
    expect(deltas).toEqual([{ stop_reason: 'stop_sequence', stop_sequence: '###' }]);
  });
});
