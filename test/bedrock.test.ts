import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRoute, price } from '../data-plane/src/testing/fixture.ts';
import { startGateway, type Gateway } from '../data-plane/src/testing/gateway.ts';
import { startBedrock, type BedrockAnswer, type BedrockFake } from './fakes/bedrock.ts';
import { bedrockChannel, KEYS } from './golden/upstreams.ts';
import { storeAdapters } from './support/stores.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const MODEL_ID = 'anthropic.claude-haiku-4-5-20251001-v1:0';
/** Failures open a channel's breaker: each failing case has its own channel, so none leaks into another. */
const CHANNELS = ['ok', 'forged', 'throttled', 'unavailable'] as const;

/**
 * AWS Bedrock through the official SDKs, beyond the golden conversation (golden/): a request
 * signed with the wrong secret is refused by the fake's own SigV4 check; the operator sees AWS's
 * error type (from `x-amzn-ErrorType`, or an exception's `:exception-type`) in the attempt record,
 * however long its name; and the stop sequence an Anthropic model on Bedrock reports reaches an
 * Anthropic client.
 */
describe('AWS Bedrock through the SDKs', () => {
  let gw: Gateway;
  let bedrock: BedrockFake;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const requestId = (): string => `bedrock-${randomUUID()}`;
  const ask = (model: string, id: string, stream = false) =>
    stream
      ? openai.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-request-id': id } }).finalChatCompletion()
      : openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-request-id': id } });
  const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => (error instanceof OpenAI.APIError ? [error.status, error.code] : error));

  beforeAll(async () => {
    bedrock = await startBedrock(KEYS.aws);
    gw = await startGateway(storeAdapters[0]![1]);
    await gw.publish({
      channels: CHANNELS.map((id) => bedrockChannel(gw.masterKey, id, bedrock.url, id === 'forged' ? { ...KEYS.aws, secretAccessKey: 'X'.repeat(40) } : KEYS.aws)),
      models: CHANNELS.map((id) => modelRoute(id, { prices: { resale: PRICE }, targets: [{ channelId: id, upstreamModel: MODEL_ID }] })),
    });
    const { key } = await gw.customer(100_000_000_000n);
    openai = new OpenAI({ apiKey: key.secret, baseURL: `${gw.base}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key.secret, baseURL: gw.base, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.stop();
    await bedrock?.close();
  });

  it('is refused by the SigV4 check when signed with the wrong secret, and the operator sees InvalidSignatureException', async () => {
    const id = requestId();
    expect(await refusal(ask('forged', id))).toEqual([502, 'upstream_error']);
    expect(bedrock.checks.at(-1)).toEqual({ ok: false, reason: 'signature mismatch' });
    const event = await gw.settled(id);
    expect(event.attempts.map((a) => [a.status, a.errorClass, a.message])).toEqual([
      [
        403,
        'status',
        'HTTP 403: InvalidSignatureException / The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      ],
    ]);
  });

  it('names a throttled call by the x-amzn-ErrorType header AWS sends beside a body without a type', async () => {
    bedrock.enqueue({ error: 'ThrottlingException', status: 429, message: 'Too many requests, please wait before trying again.' });
    const id = requestId();
    expect(await refusal(ask('throttled', id))).toEqual([429, 'rate_limited']);
    expect(bedrock.checks.at(-1)).toEqual({ ok: true, reason: null });
    const event = await gw.settled(id);
    expect(event.attempts.map((a) => [a.status, a.message])).toEqual([[429, 'HTTP 429: ThrottlingException / Too many requests, please wait before trying again.']]);
  });

  it('names an exception that ends a stream before content by its :exception-type, even a long one', async () => {
    bedrock.enqueue({ exception: 'serviceUnavailableException', message: 'Bedrock is unable to process your request.' });
    const id = requestId();
    expect(await refusal(ask('unavailable', id, true))).toEqual([502, 'upstream_error']);
    const event = await gw.settled(id);
    expect(event.attempts.map((a) => [a.errorClass, a.message])).toEqual([['stream_error', 'error event before content: serviceUnavailableException Bedrock is unable to process your request.']]);
  });

  it.each([false, true])('tells an Anthropic client which stop sequence ended the answer (streamed: %s)', async (stream) => {
    const stopped: BedrockAnswer = { content: [{ text: 'Paris' }], stopReason: 'stop_sequence', stopSequence: '###', usage: { inputTokens: 14, outputTokens: 2 } };
    bedrock.enqueue(stopped);
    const params = { model: 'ok', max_tokens: 50, stop_sequences: ['###'], messages: [{ role: 'user' as const, content: 'Capital of France, then ###' }] };
    const message = stream ? await anthropic.messages.stream(params).finalMessage() : await anthropic.messages.create(params);
    expect([message.content, message.stop_reason, message.stop_sequence]).toEqual([[{ type: 'text', text: 'Paris' }], 'stop_sequence', '###']);
    const sent = bedrock.requests.at(-1)!;
    expect([sent.path, (sent.body as { additionalModelResponseFieldPaths?: unknown }).additionalModelResponseFieldPaths]).toEqual([
      `/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/${stream ? 'converse-stream' : 'converse'}`,
      ['/stop_sequence'],
    ]);
  });
});
