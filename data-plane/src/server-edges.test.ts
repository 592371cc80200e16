import { costOf, generateSecret, usage } from '@tollgate/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/servers.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { parseOpenAIChat } from './codecs/openai-chat/parse.ts';
import { countInputTokens, estimateInputTokens } from './metering/estimate.ts';
import { countTokens } from './metering/tokenizer.ts';
import { channelRecord, modelRoute, routeTable, TEST_MODEL } from './testing/fixture.ts';
import { CHANNEL_KEY, HELLO, PRICE, startHarness, until, type Harness } from './testing/harness.ts';

const parsed = (body: object) => parseOpenAIChat(Buffer.from(JSON.stringify(body)));
/** The quick input estimate a hold is sized from. */
const inputEstimateOf = (body: object): number => estimateInputTokens(parsed(body));
/** The tokenizer's count of the input, billed when the provider reports no usage. */
const inputCountOf = (body: object): Promise<number> => countInputTokens(parsed(body));

const BIG = 'x'.repeat(5 * 1024 * 1024);

/** Paths around the happy one: odd clients, dead upstreams, money held while a request runs. */
describe.each(storeAdapters)('data plane edges over the %s store', (_name, makeStore) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(makeStore);
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.fake.reset());

  it('refuses an oversized body sent with a bad key and keeps serving', async () => {
    // The refusal leaves the body unread (http/body.test.ts covers its rejection in isolation).
    for (const secret of [null, 'tg_nope', generateSecret('api_key').secret]) {
      const response = await h.post(secret, BIG).catch(() => null);
      if (response) expect([401, 413]).toContain(response.status);
    }
    await new Promise((r) => setTimeout(r, 50));
    const { key } = await h.customer(10_000_000_000n);
    expect((await h.post(key.secret, HELLO)).status).toBe(200);
  });

  it('puts a request id on every response, routed or not', async () => {
    const health = await fetch(`${h.base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    for (const [path, method, status, code] of [
      ['/v1/nothing', 'GET', 404, 'not_found'],
      ['/v1/chat/completions', 'GET', 405, 'method_not_allowed'],
      ['/v1/models', 'POST', 405, 'method_not_allowed'],
      ['/healthz', 'POST', 405, 'method_not_allowed'],
    ] as const) {
      const response = await fetch(`${h.base}${path}`, { method });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    for (const response of [health, await fetch(`${h.base}/v1/nothing`)]) {
      expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    }
  });

  it('holds the reservation while a request runs, sized from the estimate and max_tokens', async () => {
    h.fake.setBehavior({ chunks: 20, chunkDelayMs: 20 });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const body = { model: 'gpt-test', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'héllo, a longer question' }] };
    const response = await h.post(key.secret, JSON.stringify(body));
    const reserved = costOf(usage({ input: inputEstimateOf(body), output: 100 }), PRICE);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: reserved });
    await response.text();
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n - BigInt(event.cost), held: 0n });
  });

  it('aborts a hanging upstream when the client leaves a plain request, and settles it once', async () => {
    h.fake.setBehavior({ hang: true });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const before = h.fake.requests.length;
    const controller = new AbortController();
    const pending = h.post(key.secret, HELLO, controller.signal).catch(() => null);
    await until(() => h.fake.requests.length > before);
    controller.abort();
    await pending;
    await until(() => h.fake.requests.at(-1)!.aborted);
    await until(async () => (await h.store.getBalance(orgId))?.held === 0n);
    const events = (await h.usageEvents()).filter((e) => e.orgId === orgId);
    expect(events).toHaveLength(1);
    // The upstream had the request: its input is billed, as an estimate; no output was produced.
    expect(events[0]).toMatchObject({ status: 'client_aborted', stream: false, usageSource: 'estimated', usage: usage({ input: await inputCountOf(JSON.parse(HELLO)) }) });
    expect((await h.store.getBalance(orgId))?.balance).toBe(10_000_000_000n - BigInt(events[0]!.cost));
  });

  it('maps provider failures to our own errors, without the provider body, and charges nothing', async () => {
    const { key, orgId } = await h.customer(10_000_000_000n);
    for (const [upstream, status, code] of [
      [400, 400, 'invalid_request'], // the client's input: retrying elsewhere would not help
      [429, 429, 'rate_limited'],
      [401, 502, 'upstream_error'], // the channel's key, not the customer's: never a 401 to the client
      [503, 502, 'upstream_error'],
    ] as const) {
      h.fake.setBehavior({ status: upstream, errorBody: `{"error":{"message":"bad key ${CHANNEL_KEY}"}}` });
      const response = await h.post(key.secret, HELLO);
      const text = await response.text();
      expect([response.status, (JSON.parse(text) as { error: { code: string } }).error.code]).toEqual([status, code]);
      expect(text).not.toContain(CHANNEL_KEY);
      const event = await h.settledEvent(response.headers.get('x-request-id')!);
      expect(event).toMatchObject({ status: 'upstream_error', cost: '0', httpStatus: status });
    }
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: 0n });
  });

  it('relays a large stream intact to a client that reads slowly (backpressure)', async () => {
    const reply = Array.from({ length: 4000 }, (_, i) => `${i}:${'é'.repeat(500)};`).join('');
    h.fake.setBehavior({ reply, chunks: 4000 });
    const { key } = await h.customer(1_000_000_000_000n);
    const response = await h.post(key.secret, JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    // Not reading for a while fills the socket, so uWS reports backpressure and the relay pauses.
    await new Promise((r) => setTimeout(r, 300));
    let text = '';
    for (const line of (await response.text()).split('\n')) {
      if (!line.startsWith('data: {')) continue;
      text += (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(reply);
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'ok', usageSource: 'reported' });
  });

  it('relays malformed stream events without falling over, and bills the text it saw as an estimate', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;
    h.fake.setBehavior({ rawStream: ['data: null\n\n', 'data: {"choices":[null]}\n\n', 'data: {"choices":5,"usage":"x"}\n\n', chunk('héllo'), 'data: not json\n\n', 'data: [DONE]\n\n'] });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const request = { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const response = await h.post(key.secret, JSON.stringify(request));
    expect(response.status).toBe(200);
    const body = await response.text();
    // Only chunk objects pass through: `data: null` and unreadable events are dropped, not relayed.
    expect(body).not.toContain('data: null');
    expect(body).not.toContain('not json');
    expect(body).toContain('héllo');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    const billed = usage({ input: await inputCountOf(request), output: await countTokens('héllo') });
    expect(event).toMatchObject({ status: 'ok', usageSource: 'estimated', usage: billed, cost: costOf(billed, PRICE).toString() });
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n - costOf(billed, PRICE), held: 0n });
    h.fake.reset();
    expect((await h.post(key.secret, HELLO)).status).toBe(200);
  });

  it('ends the client stream with an error event when the upstream stops early, and bills what was relayed', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;
    // No [DONE], no usage chunk, and a last event cut off before its blank line.
    h.fake.setBehavior({ rawStream: [chunk('partial '), chunk('answer'), 'data: {"choices":[{"delta":{"content":"x"'] });
    const { key } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const body = await response.text();
    expect(body).toContain('partial ');
    // The client learns the answer is incomplete: our error event, then a clean end.
    expect(body.endsWith(`data: {"error":{"message":"The provider failed while streaming; the answer is incomplete.","type":"api_error","code":"upstream_error","param":null}}\n\ndata: [DONE]\n\n`)).toBe(true);
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'upstream_error', usageSource: 'estimated' });
    expect(event.usage.output).toBe(await countTokens('partial answer'));
  });

  it('cuts a stream whose upstream never ends an event, instead of buffering without bound', async () => {
    h.fake.setBehavior({ rawStream: [`data: {"choices":[{"delta":{"content":"${'z'.repeat(9 * 1024 * 1024)}`] });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    // Nothing was sent yet, so the client gets a clean error instead of a broken stream.
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    // Nothing usable came out of the upstream, so, like a failure before the stream, it costs nothing.
    expect(event).toMatchObject({ status: 'upstream_error', httpStatus: 502, usage: usage({}), cost: '0' });
    expect(event.attempts).toEqual([expect.objectContaining({ outcome: 'failed', errorClass: 'too_large' })]);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: 0n });
  });

  it('answers 502 and charges nothing when the upstream cannot be reached', async () => {
    const deadPort = await freePort();
    await h.store.putRouteTable(
      routeTable({
        channels: [channelRecord(h.masterKey, 'ch1', { baseUrl: h.fake.url, apiKey: CHANNEL_KEY }), channelRecord(h.masterKey, 'dead', { baseUrl: `http://127.0.0.1:${deadPort}/v1` })],
        models: [
          modelRoute(TEST_MODEL, { prices: { resale: PRICE }, targets: [{ channelId: 'ch1' }] }),
          modelRoute('gpt-dead', { prices: { resale: PRICE }, targets: [{ channelId: 'dead', upstreamModel: 'x' }] }),
        ],
      }),
    );
    const { key, orgId } = await h.customer(10_000_000_000n);
    const body = JSON.stringify({ model: 'gpt-dead', messages: [{ role: 'user', content: 'hi' }] });
    let response = await h.post(key.secret, body);
    for (let i = 0; i < 50 && response.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 20));
      response = await h.post(key.secret, body);
    }
    expect(response.status).toBe(502);
    expect(response.headers.get('x-tollgate-attempts')).toBe('1');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'upstream_error', cost: '0', httpStatus: 502, channelId: null });
    expect(event.attempts).toEqual([expect.objectContaining({ channelId: 'dead', outcome: 'failed', errorClass: 'connect', status: null })]);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: 0n });
  });

  it('logs every finished request, and no log line holds a customer or channel key', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, HELLO);
    const requestId = response.headers.get('x-request-id')!;
    await until(() => h.logLines.some((line) => line.includes(requestId)));
    const text = h.logLines.join('\n');
    expect(text).not.toContain(key.secret);
    expect(text).not.toContain(CHANNEL_KEY);
    expect(text).not.toMatch(/tg_[0-9A-Za-z]{40,}/);
  });
});
