import { encodePrice, usage, type Price } from '@tollgate/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawBytes, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';

/** Credits per image, in nanocredits: 0.04 a standard square, 0.08 an HD one or a wide standard, 0.12 a wide HD one. */
const STANDARD = 40_000_000n;
const HD = 80_000_000n;
const WIDE_HD = 120_000_000n;
const withImages = (entries: [size: string, quality: string, price: bigint][]): Price => ({ ...price(0n, 0n), images: entries.map(([size, quality, p]) => ({ size, quality, price: p })) });
const DALLE = withImages([['1024x1024', 'standard', STANDARD], ['1024x1024', 'hd', HD], ['1792x1024', 'standard', HD], ['1792x1024', 'hd', WIDE_HD]]);
/** What the operator pays: half. */
const DALLE_COST = withImages([['1024x1024', 'standard', STANDARD / 2n], ['1024x1024', 'hd', HD / 2n], ['1792x1024', 'standard', HD / 2n], ['1792x1024', 'hd', WIDE_HD / 2n]]);
/** A GPT image model that picks size and quality itself when asked for `auto`. */
const GPT_IMAGE = withImages([['1024x1024', 'low', 11_000_000n], ['1024x1024', 'high', 167_000_000n], ['1536x1024', 'high', 250_000_000n]]);

const images = (...entries: Record<string, unknown>[]) => ({ created: 1_760_000_000, data: entries });
const json = (body: unknown) => rawBytes([JSON.stringify(body)], { headers: { 'content-type': 'application/json' } });

/**
 * `POST /v1/images/generations` through the official OpenAI SDK: priced per image by size and
 * quality, `n` images at that price held at admission, the images actually returned billed.
 */
describe('the images endpoint', () => {
  let gw: Gateway;
  let upstream: FakeUpstream;
  let client: OpenAI;
  let secret: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1], { providerBaseUrls: { openai: upstream.url } });
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'oa', { baseUrl: upstream.url, apiKey: 'sk-openai-images-key' }),
        channelRecord(gw.masterKey, 'an', { baseUrl: upstream.origin, provider: 'anthropic', apiKey: 'sk-ant-channel-key' }),
      ],
      models: [
        modelRoute('dall-e', {
          prices: { resale: DALLE },
          targets: [{ channelId: 'oa', upstreamModel: 'dall-e-3', cost: DALLE_COST }],
          byok: [{ provider: 'openai', upstreamModel: 'dall-e-3', listPrice: encodePrice(DALLE) }],
        }),
        modelRoute('gpt-image', { prices: { resale: GPT_IMAGE }, targets: [{ channelId: 'oa', upstreamModel: 'gpt-image-2' }] }),
        modelRoute('chat-only', { prices: { resale: price(1_000n, 2_000n) }, targets: [{ channelId: 'oa', upstreamModel: 'gpt-4o' }] }),
        modelRoute('claude-images', { prices: { resale: DALLE }, targets: [{ channelId: 'an', upstreamModel: 'claude-sonnet-4-5' }] }),
      ],
    });
    const customer = await gw.customer(10_000_000_000n);
    secret = customer.key.secret;
    client = new OpenAI({ apiKey: secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  const post = (body: unknown, key = secret) =>
    fetch(`${gw.base}/v1/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('generates n images, sends exactly what was asked, and bills n times the price of the size and quality', async () => {
    const { orgId, key } = await gw.customer(1_000_000_000n);
    const sdk = new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
    upstream.enqueue(json(images({ b64_json: 'aW1hZ2Ut', revised_prompt: 'A red lighthouse at dawn' }, { b64_json: 'aW1hZ2Uy', revised_prompt: 'A red lighthouse, dawn' })));
    const { data, response } = await sdk.images
      .generate({ model: 'dall-e', prompt: 'A lighthouse at dawn', n: 2, size: '1024x1024', quality: 'hd', response_format: 'b64_json', style: 'vivid', user: 'end-user-7' })
      .withResponse();
    expect(data).toEqual({
      created: 1_760_000_000,
      data: [
        { b64_json: 'aW1hZ2Ut', revised_prompt: 'A red lighthouse at dawn' },
        { b64_json: 'aW1hZ2Uy', revised_prompt: 'A red lighthouse, dawn' },
      ],
    });
    const sent = upstream.requests.at(-1)!;
    expect([sent.path, sent.headers.authorization, sent.body]).toEqual([
      '/v1/images/generations',
      'Bearer sk-openai-images-key',
      { model: 'dall-e-3', prompt: 'A lighthouse at dawn', n: 2, size: '1024x1024', quality: 'hd', response_format: 'b64_json', style: 'vivid', user: 'end-user-7' },
    ]);
    expect([response.headers.get('x-tollgate-cost'), response.headers.get('x-tollgate-provider')]).toEqual(['0.16', 'openai']);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.endpoint, event.stream, event.images, event.usage, event.usageSource, event.cost, event.providerCost, event.hold, event.overHold, event.status]).toEqual([
      'images', false, 2, usage({}), 'reported', String(2n * HD), String(HD), String(2n * HD), false, 'ok',
    ]);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 1_000_000_000n - 2n * HD, held: 0n });
  });

  it('bills only the images a provider returned when it returns fewer than asked', async () => {
    const { orgId, key } = await gw.customer(1_000_000_000n);
    upstream.enqueue(json(images({ url: 'https://files.example/only-one.png' })));
    const { data, response } = await new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 }).images
      .generate({ model: 'dall-e', prompt: 'Three foxes', n: 3, size: '1792x1024', quality: 'standard', response_format: 'url' })
      .withResponse();
    expect(data.data).toEqual([{ url: 'https://files.example/only-one.png' }]);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.images, event.hold, event.cost]).toEqual([1, String(3n * HD), String(HD)]);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 1_000_000_000n - HD, held: 0n });
  });

  it('shows and bills no more images than asked for when a provider sends more', async () => {
    upstream.enqueue(json(images(...['a', 'b', 'c', 'd'].map((name) => ({ url: `https://files.example/${name}.png` })))));
    const { data, response } = await client.images.generate({ model: 'dall-e', prompt: 'Two owls', n: 2, size: '1024x1024', quality: 'standard' }).withResponse();
    expect(data.data).toEqual([{ url: 'https://files.example/a.png' }, { url: 'https://files.example/b.png' }]);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.images, event.cost, event.hold]).toEqual([2, String(2n * STANDARD), String(2n * STANDARD)]);
  });

  it('holds the dearest fitting price when size and quality are left to the provider, and bills what it says it made', async () => {
    upstream.enqueue(json({ ...images({ b64_json: 'c3F1YXJl' }), size: '1024x1024', quality: 'low', output_format: 'png', usage: { input_tokens: 9, output_tokens: 272, total_tokens: 281 } }));
    const { data, response } = await client.images.generate({ model: 'gpt-image', prompt: 'A square icon', quality: 'auto' }).withResponse();
    expect(data).toEqual({ created: 1_760_000_000, data: [{ b64_json: 'c3F1YXJl' }], output_format: 'png', quality: 'low', size: '1024x1024' });
    expect(upstream.requests.at(-1)!.body).toEqual({ model: 'gpt-image-2', prompt: 'A square icon', quality: 'auto' });
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect([event.hold, event.cost, event.images]).toEqual(['250000000', '11000000', 1]);
  });

  it('bills a byok request the fee on the list price of its images, with the org own key', async () => {
    const { orgId, key } = await gw.customer(1_000_000_000n);
    await gw.byok(orgId, 'openai', 'sk-customer-own-key');
    upstream.enqueue(json(images({ url: 'https://files.example/1.png' }, { url: 'https://files.example/2.png' })));
    const { response } = await new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 }).images
      .generate({ model: 'byok/dall-e', prompt: 'x', n: 2, size: '1024x1024', quality: 'hd' })
      .withResponse();
    expect(upstream.requests.at(-1)!.headers.authorization).toBe('Bearer sk-customer-own-key');
    const event = await gw.settled(response.headers.get('x-request-id')!);
    // 5% of 2 x 0.08 credits; the operator pays the provider nothing.
    expect([event.chargeKind, event.images, event.cost, event.providerCost, event.hold]).toEqual(['byok_fee', 2, '8000000', '0', '8000000']);
  });

  it.each([
    ['a size not on the price list', { size: '512x512', quality: 'standard' }, 'size', 'The model "dall-e" is not sold at size 512x512 and quality standard on the resale tier. Sold: 1024x1024 standard, 1024x1024 hd, 1792x1024 standard, 1792x1024 hd.'],
    ['a quality not on the price list', { size: '1024x1024', quality: 'low' }, 'quality', 'The model "dall-e" is not sold at size 1024x1024 and quality low on the resale tier. Sold: 1024x1024 standard, 1024x1024 hd, 1792x1024 standard, 1792x1024 hd.'],
  ])('refuses %s with a typed 400 before calling anyone, holding nothing', async (_name, asked, param, message) => {
    const { orgId, key } = await gw.customer(1_000_000_000n);
    const before = upstream.requests.length;
    const error = await new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 }).images
      .generate({ model: 'dall-e', prompt: 'x', ...asked } as OpenAI.ImageGenerateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect([e.status, e.code, e.param, e.message, upstream.requests.length]).toEqual([400, 'unsupported_parameter', param, `400 ${message}`, before]);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 1_000_000_000n, held: 0n });
  });

  it('refuses a model that sells no images at all the same way', async () => {
    const response = await post({ model: 'chat-only', prompt: 'x' });
    const body = (await response.json()) as { error: { code: string; param: string; message: string } };
    expect([response.status, body.error.code, body.error.param, body.error.message]).toEqual([
      400, 'unsupported_parameter', 'size', 'The model "chat-only" is not sold at size (default) and quality (default) on the resale tier. It sells no images.',
    ]);
  });

  it('answers 402 when the balance cannot cover n images at the price, before calling anyone', async () => {
    const { orgId, key } = await gw.customer(3n * WIDE_HD - 1n);
    const before = upstream.requests.length;
    const poor = new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
    const error = await poor.images.generate({ model: 'dall-e', prompt: 'x', n: 3, size: '1792x1024', quality: 'hd' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const e = error as InstanceType<typeof OpenAI.APIError>;
    expect([e.status, e.code, upstream.requests.length]).toEqual([402, 'insufficient_balance', before]);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 3n * WIDE_HD - 1n, held: 0n });
    // Two of them it can cover.
    upstream.enqueue(json(images({ url: 'https://files.example/1.png' }, { url: 'https://files.example/2.png' })));
    const { response } = await poor.images.generate({ model: 'dall-e', prompt: 'x', n: 2, size: '1792x1024', quality: 'hd' }).withResponse();
    expect((await gw.settled(response.headers.get('x-request-id')!)).cost).toBe(String(2n * WIDE_HD));
  });

  it.each([
    ['a stream', { stream: true }, 'unsupported_parameter', 'stream'],
    ['partial images', { partial_images: 2 }, 'unsupported_parameter', 'partial_images'],
    ['GIF output', { output_format: 'gif' }, 'unsupported_parameter', 'output_format'],
    ['an edit\'s image', { image: 'aGk=' }, 'unsupported_parameter', 'image'],
    ['an unknown field', { seed: 42 }, 'unsupported_parameter', 'seed'],
    ['n above 10', { n: 11 }, 'invalid_request', 'n'],
    ['n of zero', { n: 0 }, 'invalid_request', 'n'],
    ['a malformed size', { size: '1024*1024' }, 'invalid_request', 'size'],
    ['an unknown quality', { quality: 'ultra' }, 'invalid_request', 'quality'],
    ['an unknown response format', { response_format: 'png' }, 'invalid_request', 'response_format'],
    ['no prompt', { prompt: undefined }, 'invalid_request', 'prompt'],
  ])('refuses %s with a typed 400 and calls nobody', async (_name, extra, code, param) => {
    const before = upstream.requests.length;
    const response = await post({ model: 'dall-e', prompt: 'x', size: '1024x1024', quality: 'standard', ...extra });
    const body = (await response.json()) as { error: { code: string; param: string } };
    expect([response.status, body.error.code, body.error.param, upstream.requests.length]).toEqual([400, code, param, before]);
  });

  it('refuses a model whose providers offer no image generation, and charges nothing', async () => {
    const { orgId, key } = await gw.customer(1_000_000_000n);
    const response = await post({ model: 'claude-images', prompt: 'x', size: '1024x1024', quality: 'standard' }, key.secret);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect([response.status, body.error.code, body.error.message]).toEqual([400, 'unsupported_parameter', 'The provider anthropic offers no image generation for this model.']);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 1_000_000_000n, held: 0n });
  });

  it('lists per-image prices beside token prices in GET /v1/models', async () => {
    const listed = (await client.models.retrieve('dall-e')) as unknown as { tollgate: { pricing: Record<string, { images?: unknown }> } };
    expect(listed.tollgate.pricing.resale!.images).toEqual([
      { size: '1024x1024', quality: 'standard', price: '0.04' },
      { size: '1024x1024', quality: 'hd', price: '0.08' },
      { size: '1792x1024', quality: 'standard', price: '0.08' },
      { size: '1792x1024', quality: 'hd', price: '0.12' },
    ]);
    const chat = (await client.models.retrieve('chat-only')) as unknown as { tollgate: { pricing: Record<string, object> } };
    expect('images' in chat.tollgate.pricing.resale!).toBe(false);
  });
});
