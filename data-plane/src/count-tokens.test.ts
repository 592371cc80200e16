import Anthropic from '@anthropic-ai/sdk';
import { NO_LIMITS, usage } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropic, type AnthropicAnswer, type AnthropicFake } from '../../test/fakes/anthropic.ts';
import { startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';
import { awayFromMinuteEdge } from '../../test/support/clock.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const ANTHROPIC_KEY = 'sk-ant-count-channel-key';
const counted = (input_tokens: number): AnthropicAnswer => ({
  content: [], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
});
/** A 1x1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/**
 * `POST /v1/messages/count_tokens` through the official Anthropic SDK: Anthropic's own count when
 * the target is Anthropic, the gateway's tokenizer otherwise; free (no hold, zero cost) but
 * authenticated, allowlisted and rate limited, with Anthropic-shaped errors.
 */
describe('the count_tokens endpoint', () => {
  let gw: Gateway;
  let anthropic: AnthropicFake;
  let openai: FakeUpstream;
  let client: Anthropic;
  let orgId: string;

  beforeAll(async () => {
    anthropic = await startAnthropic({ apiKey: ANTHROPIC_KEY });
    openai = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1]);
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'an', { baseUrl: anthropic.url, provider: 'anthropic', apiKey: ANTHROPIC_KEY }),
        channelRecord(gw.masterKey, 'oa', { baseUrl: openai.url, apiKey: 'sk-openai-channel-key' }),
      ],
      models: [
        modelRoute('claude', { prices: { resale: PRICE }, targets: [{ channelId: 'an', upstreamModel: 'claude-haiku-4-5' }] }),
        modelRoute('gpt', { prices: { resale: PRICE }, targets: [{ channelId: 'oa', upstreamModel: 'gpt-4o' }] }),
      ],
    });
    // No balance at all: counting is free, so nothing needs covering.
    const customer = await gw.customer(0n);
    orgId = customer.orgId;
    client = new Anthropic({ apiKey: customer.key.secret, baseURL: gw.base, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await anthropic?.close();
    await openai?.close();
  });

  it('asks Anthropic for its count, with the channel key and what the model would read, and bills nothing', async () => {
    anthropic.enqueue(counted(42));
    const { data, response } = await client.messages
      .countTokens({
        model: 'claude',
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      })
      .withResponse();
    expect(data).toEqual({ input_tokens: 42 });
    const sent = anthropic.requests.at(-1)!;
    expect([sent.path, sent.headers['x-api-key'], sent.headers['anthropic-version'], sent.body]).toEqual([
      '/v1/messages/count_tokens',
      ANTHROPIC_KEY,
      '2023-06-01',
      {
        model: 'claude-haiku-4-5',
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }],
        tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      },
    ]);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.endpoint, event.provider, event.usage, event.cost, event.hold, event.status, event.attempts.length]).toEqual(['count_tokens', 'anthropic', usage({}), '0', '0', 'ok', 1]);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 0n, held: 0n });
  });

  it('sends Anthropic only what changes the count: thinking yes, the output cap and sampling no', async () => {
    anthropic.enqueue(counted(7));
    const response = await fetch(`${gw.base}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': (client as unknown as { apiKey: string }).apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude', max_tokens: 4_000, temperature: 1, stop_sequences: ['END'], metadata: { user_id: 'u-1' }, stream: true,
        thinking: { type: 'enabled', budget_tokens: 2_048 }, messages: [{ role: 'user', content: 'Think' }],
      }),
    });
    expect([response.status, await response.json()]).toEqual([200, { input_tokens: 7 }]);
    expect(anthropic.requests.at(-1)!.body).toEqual({
      model: 'claude-haiku-4-5', messages: [{ role: 'user', content: [{ type: 'text', text: 'Think' }] }], thinking: { type: 'enabled', budget_tokens: 2_048 },
    });
  });

  it('counts with the tokenizer when the target is not Anthropic, calling no provider', async () => {
    const before = openai.requests.length;
    const { data, response } = await client.messages
      .countTokens({ model: 'gpt', system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello in French' }] })
      .withResponse();
    // OpenAI's chat layout: 3 per message, its role (1 each), "Be brief." (3), "Say hello in French" (4), 3 to prime the reply.
    expect(data).toEqual({ input_tokens: 3 + 1 + 3 + 3 + 1 + 4 + 3 });
    expect(openai.requests.length).toBe(before);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.endpoint, event.provider, event.cost, event.hold, event.attempts]).toEqual(['count_tokens', 'openai', '0', '0', []]);
  });

  it('counts an image by the provider image-token rules, not by its bytes', async () => {
    const text = await client.messages.countTokens({ model: 'gpt', messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe it' }] }] });
    const withImage = await client.messages.countTokens({
      model: 'gpt',
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: 'Describe it' }] }],
    });
    // An image of unknown detail counts as OpenAI's largest high-detail image: 8 tiles x 170 + 85.
    expect(withImage.input_tokens - text.input_tokens).toBe(1_445);
  });

  it('takes a body without max_tokens and refuses one without messages, in Anthropic shape', async () => {
    const response = await fetch(`${gw.base}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': (client as unknown as { apiKey: string }).apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude' }),
    });
    expect([response.status, await response.json()]).toEqual([400, { type: 'error', error: { type: 'invalid_request_error', message: 'Missing required parameter: "messages" must be a non-empty array.' } }]);
  });

  it('refuses an unknown key with Anthropic’s authentication error', async () => {
    const stranger = new Anthropic({ apiKey: 'tg_not_a_key', baseURL: gw.base, maxRetries: 0 });
    const error = await stranger.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('keeps to the key’s model allowlist', async () => {
    const { key } = await gw.customer(0n, { limits: { ...NO_LIMITS, models: ['gpt'] } });
    const limited = new Anthropic({ apiKey: key.secret, baseURL: gw.base, maxRetries: 0 });
    const before = anthropic.requests.length;
    const error = await limited.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((error as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toEqual({
      type: 'error', error: { type: 'permission_error', message: 'This API key may not use the model "claude" on the resale tier.' },
    });
    expect(anthropic.requests.length).toBe(before);
    expect(await limited.messages.countTokens({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] })).toEqual({ input_tokens: 3 + 1 + 1 + 3 });
  });

  it('counts against the key’s requests per minute', async () => {
    await awayFromMinuteEdge();
    const { key } = await gw.customer(0n, { limits: { ...NO_LIMITS, requestsPerMinute: 2 } });
    const limited = new Anthropic({ apiKey: key.secret, baseURL: gw.base, maxRetries: 0 });
    const ask = () => limited.messages.countTokens({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
    const answers = [await ask(), await ask(), await ask().catch((e: unknown) => e)];
    // A minute boundary between the calls would reset the window; the three take milliseconds.
    expect(answers.slice(0, 2)).toEqual([{ input_tokens: 8 }, { input_tokens: 8 }]);
    expect(answers[2]).toBeInstanceOf(Anthropic.RateLimitError);
    expect((answers[2] as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });
});
