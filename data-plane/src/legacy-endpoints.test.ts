import { usage } from '@tollgate/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fail, rawBytes, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';

/** 1 credit-unit per input token, 2 per output token (per million: 1e6 and 2e6). */
const PRICE = price(1_000_000n, 2_000_000n);
const json = (body: unknown) => rawBytes([JSON.stringify(body)], { headers: { 'content-type': 'application/json' } });
const sse = (...payloads: unknown[]) => rawBytes([...payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`), 'data: [DONE]\n\n']);

const vectors = (model: string, prompt: number | null, ...embeddings: Array<number[] | string>) => ({
  object: 'list',
  data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
  model,
  ...(prompt === null ? {} : { usage: { prompt_tokens: prompt, total_tokens: prompt } }),
});

const completionChunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'cmpl-up-1',
  object: 'text_completion',
  created: 1_760_000_000,
  model: 'davinci-up',
  choices,
  ...extra,
});

/**
 * `POST /v1/embeddings` and the legacy `POST /v1/completions`, through the official OpenAI SDK,
 * metered like chat: reserved before the call, settled once from what the provider reports (or what
 * we count when it reports nothing), refused with a typed error when the route cannot serve them.
 */
describe('the embeddings and legacy completions endpoints', () => {
  let gw: Gateway;
  let openai: FakeUpstream;
  let backup: FakeUpstream;
  let client: OpenAI;
  let secret: string;

  beforeAll(async () => {
    openai = await startUpstream();
    backup = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1]);
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'oa', { baseUrl: openai.url, apiKey: 'sk-openai-channel-key' }),
        channelRecord(gw.masterKey, 'bk', { baseUrl: backup.url, apiKey: 'sk-backup-channel-key' }),
        channelRecord(gw.masterKey, 'an', { baseUrl: openai.origin, provider: 'anthropic', apiKey: 'sk-ant-channel-key' }),
      ],
      models: [
        modelRoute('embed-small', { prices: { resale: PRICE }, targets: [{ channelId: 'oa', upstreamModel: 'text-embedding-3-small' }] }),
        modelRoute('embed-fallback', {
          prices: { resale: PRICE },
          targets: [
            { channelId: 'oa', upstreamModel: 'embed-a', priority: 0 },
            { channelId: 'bk', upstreamModel: 'embed-b', priority: 1 },
          ],
        }),
        modelRoute('claude-only', { prices: { resale: PRICE }, targets: [{ channelId: 'an', upstreamModel: 'claude-sonnet-4-5' }] }),
        modelRoute('instruct', { prices: { resale: PRICE }, targets: [{ channelId: 'oa', upstreamModel: 'davinci-up' }] }),
      ],
    });
    const customer = await gw.customer(1_000_000_000n);
    secret = customer.key.secret;
    client = new OpenAI({ apiKey: secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await backup?.close();
  });

  describe('/v1/embeddings', () => {
    it('embeds a batch of texts and bills the input tokens the provider reports', async () => {
      openai.enqueue(json(vectors('text-embedding-3-small', 7, [0.25, -0.5, 1], [0, 0.125, -1])));
      const { data, response } = await client.embeddings.create({ model: 'embed-small', input: ['hello world', 'bonjour'], encoding_format: 'float' }).withResponse();
      expect(data).toEqual({
        object: 'list',
        data: [
          { object: 'embedding', index: 0, embedding: [0.25, -0.5, 1] },
          { object: 'embedding', index: 1, embedding: [0, 0.125, -1] },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 7, total_tokens: 7 },
      });
      const upstream = openai.requests.at(-1)!;
      expect([upstream.path, upstream.headers.authorization, upstream.body]).toEqual([
        '/v1/embeddings',
        'Bearer sk-openai-channel-key',
        { model: 'text-embedding-3-small', input: ['hello world', 'bonjour'], encoding_format: 'float' },
      ]);
      const event = await gw.settled(response.headers.get('x-request-id')!);
      expect([event.endpoint, event.stream, event.usageSource, event.usage, event.cost, event.status]).toEqual(['embeddings', false, 'reported', usage({ input: 7 }), '7', 'ok']);
    });

    it('keeps base64 vectors as the provider sent them, which the SDK decodes by default', async () => {
      const floats = new Float32Array([0.5, -2, 3.25]);
      openai.enqueue(json(vectors('text-embedding-3-small', 2, Buffer.from(floats.buffer).toString('base64'))));
      const result = await client.embeddings.create({ model: 'embed-small', input: 'one text', dimensions: 3 });
      expect(result.data[0]!.embedding).toEqual([0.5, -2, 3.25]);
      expect(openai.requests.at(-1)!.body).toEqual({ model: 'text-embedding-3-small', input: ['one text'], encoding_format: 'base64', dimensions: 3 });
    });

    it('counts the input itself when the provider reports no usage', async () => {
      openai.enqueue(json(vectors('text-embedding-3-small', null, [1, 2])));
      const { response } = await client.embeddings.create({ model: 'embed-small', input: 'hello world', encoding_format: 'float' }).withResponse();
      const event = await gw.settled(response.headers.get('x-request-id')!);
      // "hello world" is two tokens in o200k/cl100k.
      expect([event.usageSource, event.usage, event.cost]).toEqual(['estimated', usage({ input: 2 }), '2']);
    });

    it('falls back to the next target when the first fails', async () => {
      openai.enqueue(fail(503));
      backup.enqueue(json(vectors('embed-b', 3, [9])));
      const { data, response } = await client.embeddings.create({ model: 'embed-fallback', input: 'x', encoding_format: 'float' }).withResponse();
      expect(data.data).toEqual([{ object: 'embedding', index: 0, embedding: [9] }]);
      expect([openai.requests.at(-1)!.body!.model, backup.requests.at(-1)!.body!.model]).toEqual(['embed-a', 'embed-b']);
      const event = await gw.settled(response.headers.get('x-request-id')!);
      expect([event.channelId, event.attempts.length, event.usage]).toEqual(['bk', 2, usage({ input: 3 })]);
    });

    it.each([
      ['token arrays', { model: 'embed-small', input: [[1, 2, 3]] }, 'unsupported_parameter', 'input'],
      ['a stream', { model: 'embed-small', input: 'x', stream: true }, 'unsupported_parameter', 'stream'],
      ['an empty string', { model: 'embed-small', input: [''] }, 'invalid_request', 'input'],
      ['no input', { model: 'embed-small' }, 'invalid_request', 'input'],
      ['an empty list', { model: 'embed-small', input: [] }, 'invalid_request', 'input'],
      ['a bad encoding', { model: 'embed-small', input: 'x', encoding_format: 'int8' }, 'invalid_request', 'encoding_format'],
    ])('refuses %s with a typed 400 and calls nobody', async (_name, body, code, param) => {
      const before = openai.requests.length;
      const response = await fetch(`${gw.base}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const error = ((await response.json()) as { error: { code: string; param: string } }).error;
      expect([response.status, error.code, error.param, openai.requests.length]).toEqual([400, code, param, before]);
    });

    it('refuses a model whose providers offer no embeddings, and charges nothing', async () => {
      const { key, orgId } = await gw.customer(5_000n);
      const response = await fetch(`${gw.base}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-only', input: 'x' }) });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect([response.status, body.error.code, body.error.message]).toEqual([400, 'unsupported_parameter', 'The provider anthropic offers no embeddings for this model.']);
      expect(await gw.store.getBalance(orgId)).toEqual({ balance: 5_000n, held: 0n });
    });
  });

  describe('/v1/completions', () => {
    it('continues a prompt and bills the reported usage', async () => {
      openai.enqueue(json(completionChunk([{ text: ' world!', index: 0, logprobs: null, finish_reason: 'stop' }], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })));
      const { data, response } = await client.completions.create({ model: 'instruct', prompt: 'Hello', max_tokens: 20, temperature: 0, stop: ['\n'] }).withResponse();
      expect([data.object, data.choices, data.usage]).toEqual([
        'text_completion',
        [{ text: ' world!', index: 0, logprobs: null, finish_reason: 'stop' }],
        { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      ]);
      expect(openai.requests.at(-1)!.path).toBe('/v1/completions');
      expect(openai.requests.at(-1)!.body).toEqual({ model: 'davinci-up', prompt: 'Hello', max_tokens: 20, temperature: 0, stop: ['\n'] });
      const event = await gw.settled(response.headers.get('x-request-id')!);
      expect([event.endpoint, event.usageSource, event.usage, event.cost]).toEqual(['completions', 'reported', usage({ input: 3, output: 2 }), '7']);
    });

    it('streams a completion, with the usage chunk only when the client asked for it', async () => {
      const chunks = [
        completionChunk([{ text: 'Once', index: 0, logprobs: null, finish_reason: null }]),
        completionChunk([{ text: ' upon', index: 0, logprobs: null, finish_reason: null }]),
        completionChunk([{ text: '', index: 0, logprobs: null, finish_reason: 'length' }]),
        completionChunk([], { usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } }),
      ];
      for (const includeUsage of [false, true]) {
        openai.enqueue(sse(...chunks));
        const { data: stream, response } = await client.completions
          .create({ model: 'instruct', prompt: 'Tell a story', max_tokens: 2, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) })
          .withResponse();
        const received: Array<{ text: string | null; finish: string | null; usage: unknown }> = [];
        for await (const chunk of stream) received.push({ text: chunk.choices[0]?.text ?? null, finish: chunk.choices[0]?.finish_reason ?? null, usage: chunk.usage ?? null });
        expect(received).toEqual([
          { text: 'Once', finish: null, usage: null },
          { text: ' upon', finish: null, usage: null },
          { text: '', finish: 'length', usage: null },
          ...(includeUsage ? [{ text: null, finish: null, usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } }] : []),
        ]);
        expect(openai.requests.at(-1)!.body).toEqual({ model: 'davinci-up', prompt: 'Tell a story', max_tokens: 2, stream: true, stream_options: { include_usage: true } });
        const event = await gw.settled(response.headers.get('x-request-id')!);
        expect([event.stream, event.usageSource, event.usage, event.cost, event.status]).toEqual([true, 'reported', usage({ input: 4, output: 2 }), '8', 'ok']);
      }
    });

    it('reserves for every prompt times n, and sends the batch as one call', async () => {
      openai.enqueue(
        json(
          completionChunk(
            [
              { text: 'a', index: 0, logprobs: null, finish_reason: 'stop' },
              { text: 'b', index: 1, logprobs: null, finish_reason: 'stop' },
              { text: 'c', index: 2, logprobs: null, finish_reason: 'stop' },
              { text: 'd', index: 3, logprobs: null, finish_reason: 'stop' },
            ],
            { usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 } },
          ),
        ),
      );
      const data = await client.completions.create({ model: 'instruct', prompt: ['x', 'y'], n: 2, max_tokens: 1 });
      expect(data.choices.map((c) => c.text)).toEqual(['a', 'b', 'c', 'd']);
      expect(openai.requests.at(-1)!.body).toEqual({ model: 'davinci-up', prompt: ['x', 'y'], max_tokens: 1, n: 2 });
    });

    it('refuses a request whose worst case the balance cannot cover, before calling anyone', async () => {
      const { key, orgId } = await gw.customer(100n);
      const before = openai.requests.length;
      const poor = new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
      const error = await poor.completions.create({ model: 'instruct', prompt: 'x', max_tokens: 1000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect([(error as InstanceType<typeof OpenAI.APIError>).status, (error as InstanceType<typeof OpenAI.APIError>).code, openai.requests.length]).toEqual([402, 'insufficient_balance', before]);
      expect(await gw.store.getBalance(orgId)).toEqual({ balance: 100n, held: 0n });
    });

    it.each([
      ['echo', { echo: true }],
      ['best_of', { best_of: 3 }],
      ['suffix', { suffix: 'end' }],
      ['logprobs', { logprobs: 2 }],
    ])('refuses %s, which changes what is billed', async (param, extra) => {
      const response = await fetch(`${gw.base}/v1/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'instruct', prompt: 'x', ...extra }),
      });
      const error = ((await response.json()) as { error: { code: string; param: string } }).error;
      expect([response.status, error.code, error.param]).toEqual([400, 'unsupported_parameter', param]);
    });

    it('refuses a model whose providers offer no text completions', async () => {
      const error = await client.completions.create({ model: 'claude-only', prompt: 'x' }).catch((e: unknown) => e);
      expect([(error as InstanceType<typeof OpenAI.APIError>).status, (error as InstanceType<typeof OpenAI.APIError>).message]).toEqual([
        400,
        '400 The provider anthropic offers no text completions for this model.',
      ]);
    });
  });
});
