import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, endlessStream, errorEventAfterChunks, fail, hang, resetAfterChunks, resetConnection, startUpstream, UPSTREAM_SECRET, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { countTokens } from '../metering/tokenizer.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const HI = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const STREAM = { ...HI, stream: true };
const BALANCE = 100_000_000_000n;

/** Reads an SSE body into its data payloads. */
async function events(response: Response): Promise<string[]> {
  const text = await response.text();
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
}

function contentOf(payloads: string[]): string {
  let text = '';
  for (const p of payloads) {
    if (p === '[DONE]') continue;
    const chunk = JSON.parse(p) as { choices?: { delta?: { content?: string } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

/** Fallback, retries and breakers over two channels: `first` (priority 0) and `second` (priority 1). */
describe.each(storeAdapters)('dispatch over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let first: FakeUpstream;
  let second: FakeUpstream;

  beforeAll(async () => {
    gw = await startGateway(makeStore, { breaker: { threshold: 3, coolDownMs: 400, probeTtlMs: 2_000 }, retry: { baseBackoffMs: 10, maxBackoffMs: 1_500 } });
    first = await startUpstream();
    second = await startUpstream({ default: answer({ reply: 'from second' }) });
  });
  afterAll(async () => {
    await gw?.stop();
    await first?.close();
    await second?.close();
  });

  /** A fresh pair of channels (fresh breakers) for one test; `first` has priority 0. */
  async function channels(firstOptions: Parameters<typeof channelRecord>[2] extends infer O ? Partial<O> : never = {}) {
    const tag = Math.random().toString(36).slice(2, 8);
    const [a, b] = [`first-${tag}`, `second-${tag}`];
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, a, { baseUrl: first.url, provider: 'groq', apiKey: 'gsk_first_channel_key', timeouts: { firstByteMs: 300 }, ...firstOptions }),
        channelRecord(gw.masterKey, b, { baseUrl: second.url, provider: 'together', apiKey: 'sk-second-channel-key' }),
      ],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: a, priority: 0 }, { channelId: b, priority: 1 }] })],
    });
    const customer = await gw.customer(BALANCE);
    return { a, b, customer };
  }

  it.each([
    ['a 503', fail(503, { headers: { 'retry-after': '0' } }), 503, 'status'],
    ['a 429', fail(429), 429, 'status'],
    ['a reset before any byte', resetConnection(), null, 'reset'],
    ['no first byte in time', answer({ firstByteDelayMs: 1_000 }), null, 'timeout'],
  ] as const)('falls back to the next target after %s, before the first byte', async (_what, behavior, status, errorClass) => {
    const { a, b, customer } = await channels();
    first.enqueue(behavior);
    const before = second.requests.length;
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('from second');
    expect(response.headers.get('x-tollgate-provider')).toBe('together');
    expect(response.headers.get('x-tollgate-attempts')).toBe('2');
    expect(second.requests.length).toBe(before + 1);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts).toEqual([
      expect.objectContaining({ channelId: a, provider: 'groq', outcome: 'failed', status, errorClass }),
      expect.objectContaining({ channelId: b, provider: 'together', outcome: 'ok', status: 200 }),
    ]);
    expect(event).toMatchObject({ channelId: b, provider: 'together', status: 'ok' });
    // The failed attempt's provider error never reaches the client or the usage record verbatim.
    expect(JSON.stringify(event)).not.toContain(UPSTREAM_SECRET);
  });

  it.each([
    ['an error event', errorEventAfterChunks(0), 'stream_error'],
    ['a reset after only the role chunk', resetAfterChunks(1), 'reset'],
  ] as const)('falls back when a stream fails with %s before any content', async (_what, behavior, errorClass) => {
    const { customer } = await channels();
    first.enqueue(behavior);
    const response = await gw.post(customer.key.secret, STREAM);
    expect(response.status).toBe(200);
    const payloads = await events(response);
    expect(contentOf(payloads)).toBe('from second');
    expect(payloads.at(-1)).toBe('[DONE]');
    expect(payloads.join('')).not.toContain(UPSTREAM_SECRET);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts.map((a) => [a.outcome, a.errorClass])).toEqual([['failed', errorClass], ['ok', null]]);
  });

  it('never falls back after the first byte: the stream ends with our error event and a clean end', async () => {
    const { customer } = await channels();
    // The role chunk, then 'ab' and 'cd'; then the connection breaks.
    first.enqueue(resetAfterChunks(3, { reply: 'abcdefghij', chunks: 5 }));
    const before = second.requests.length;
    const response = await gw.post(customer.key.secret, STREAM);
    expect(response.status).toBe(200);
    const payloads = await events(response);
    expect(contentOf(payloads)).toBe('abcd');
    expect(payloads.slice(-2)).toEqual([
      '{"error":{"message":"The provider failed while streaming; the answer is incomplete.","type":"api_error","code":"upstream_error","param":null}}',
      '[DONE]',
    ]);
    expect(second.requests.length).toBe(before);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'upstream_error', usageSource: 'estimated', attempts: [expect.objectContaining({ outcome: 'ok' })] });
    // What was relayed is billed once: the input estimate and the output that reached the client.
    expect(event.usage.output).toBe(await countTokens('abcd'));
  });

  it('does not fall back on a request the provider calls invalid', async () => {
    const { customer } = await channels();
    first.enqueue(fail(400));
    const before = second.requests.length;
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(JSON.parse(body).error).toMatchObject({ code: 'invalid_request', message: 'The provider rejected the request as invalid (HTTP 400).' });
    expect(body).not.toContain(UPSTREAM_SECRET);
    expect(second.requests.length).toBe(before);
  });

  it('answers 503 fallback_exhausted with Retry-After when every target failed, and charges nothing', async () => {
    const { customer } = await channels();
    first.enqueue(fail(500));
    second.enqueue(fail(502));
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('fallback_exhausted');
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ cost: '0', status: 'upstream_error', httpStatus: 503, errorCode: 'fallback_exhausted' });
    expect(await gw.store.getBalance(customer.orgId)).toEqual({ balance: BALANCE, held: 0n });
  });

  it("retries the same channel after its Retry-After when the channel allows retries", async () => {
    const { customer } = await channels({ retries: 1 });
    first.enqueue(fail(429, { headers: { 'retry-after': '1' } }), answer({ reply: 'first, second try' }));
    const before = first.requests.length;
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('first, second try');
    const [failed, retried] = first.requests.slice(before);
    // The retry waited for the Retry-After (1 s), not the 10 ms base backoff.
    expect(retried!.receivedAt - failed!.receivedAt).toBeGreaterThanOrEqual(1_000);
  });

  it('moves on at once when Retry-After asks for longer than the gateway would wait', async () => {
    const { customer } = await channels({ retries: 3 });
    first.enqueue(fail(429, { headers: { 'retry-after': '30' } }));
    const before = first.requests.length;
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-tollgate-provider')).toBe('together');
    expect(first.requests.length).toBe(before + 1);
  });

  it('opens the breaker after repeated failures, skips the channel, then lets one probe close it', async () => {
    const { a, customer } = await channels();
    first.enqueue(fail(500), fail(500), fail(500));
    for (let i = 0; i < 3; i++) expect((await gw.post(customer.key.secret, HI)).status).toBe(200);
    const calls = first.requests.length;
    // Open: the next requests go straight to the second channel.
    for (let i = 0; i < 3; i++) {
      const response = await gw.post(customer.key.secret, HI);
      expect(response.headers.get('x-tollgate-attempts')).toBe('1');
      expect(response.headers.get('x-tollgate-provider')).toBe('together');
    }
    expect(first.requests.length).toBe(calls);
    expect((await gw.store.getBreaker(a)).openUntil).toBeGreaterThan(0);
    // After the cool-down, concurrent requests: exactly one probes the first channel.
    await new Promise((r) => setTimeout(r, 450));
    first.enqueue(answer({ reply: 'probe', firstByteDelayMs: 100 }));
    const burst = await Promise.all([1, 2, 3, 4].map(() => gw.post(customer.key.secret, HI)));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(burst.filter((r) => r.headers.get('x-tollgate-provider') === 'groq')).toHaveLength(1);
    expect(first.requests.length).toBe(calls + 1);
    // The probe succeeded: closed again (written just after the answer), traffic returns to the first channel.
    for (let i = 0; i < 100 && (await gw.store.getBreaker(a)).openUntil !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await gw.store.getBreaker(a)).toEqual({ openUntil: 0, failures: 0 });
    const after = await gw.post(customer.key.secret, HI);
    expect(after.headers.get('x-tollgate-provider')).toBe('groq');
  });

  it('refuses at once (no hidden queue) past a channel’s concurrency limit, and says when to retry', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await gw.publish({
      channels: [channelRecord(gw.masterKey, `solo-${tag}`, { baseUrl: first.url, maxConcurrency: 2 })],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: `solo-${tag}` }] })],
    });
    const customer = await gw.customer(BALANCE);
    first.enqueue(hang(), hang());
    const controllers = [new AbortController(), new AbortController()];
    const held = controllers.map((c) => gw.post(customer.key.secret, HI, {}, c.signal).catch(() => null));
    await first.waitFor(() => first.stats().inFlight >= 2);
    const started = Date.now();
    const refused = await Promise.all([1, 2, 3].map(() => gw.post(customer.key.secret, HI)));
    expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('no_channel_available');
    }
    // Refused without waiting for a slot (the hanging calls are still running).
    expect(first.stats().inFlight).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const c of controllers) c.abort();
    await Promise.all(held);
  });

  it('aborts the upstream within 100 ms of a client disconnect', async () => {
    const { customer } = await channels();
    first.enqueue(endlessStream({ chunkDelayMs: 20 }));
    const controller = new AbortController();
    const response = await gw.post(customer.key.secret, STREAM, {}, controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    const request = first.requests.at(-1)!;
    const abortedAt = performance.now();
    controller.abort();
    await first.waitFor(() => request.abortedAt !== null, 2_000);
    expect(request.abortedAt! - abortedAt).toBeLessThan(100);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.status).toBe('client_aborted');
  });
  it('keeps a session on one target (prompt-cache affinity) while spreading sessions by weight', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await gw.publish({
      channels: [channelRecord(gw.masterKey, `x-${tag}`, { baseUrl: first.url, provider: 'groq' }), channelRecord(gw.masterKey, `y-${tag}`, { baseUrl: second.url, provider: 'together' })],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: `x-${tag}` }, { channelId: `y-${tag}` }] })],
    });
    const { key } = await gw.customer(BALANCE);
    const providerOf = async (headers: Record<string, string>, content: string) => {
      const response = await gw.post(key.secret, { model: 'm', messages: [{ role: 'user', content }] }, headers);
      await response.arrayBuffer();
      return response.headers.get('x-tollgate-provider');
    };
    for (const session of ['alpha', 'beta', 'gamma']) {
      const seen = new Set<string | null>();
      for (let i = 0; i < 12; i++) seen.add(await providerOf({ 'x-session-id': session }, `question ${i}`));
      expect(seen.size).toBe(1);
    }
    // Without a session id, the leading prompt is the key: the same long prefix sticks too.
    const prefix = 'You are a careful assistant. '.repeat(40);
    const byPrefix = new Set<string | null>();
    for (let i = 0; i < 12; i++) byPrefix.add(await providerOf({}, `${prefix} question ${i}`));
    expect(byPrefix.size).toBe(1);
    // Across many sessions, both targets serve (each session picks by weight, then sticks).
    const spread = new Set<string | null>();
    for (let i = 0; i < 40; i++) spread.add(await providerOf({ 'x-session-id': `s-${tag}-${i}` }, 'hi'));
    expect([...spread].sort()).toEqual(['groq', 'together']);
  });
  it("skips a provider whose adapter cannot express the request, and says why when none can", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, `gemini-${tag}`, { baseUrl: first.url, provider: 'google', apiKey: 'AIzaTestKeyForTheGeminiChannel' }),
        channelRecord(gw.masterKey, `openai-${tag}`, { baseUrl: second.url }),
      ],
      models: [
        modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: `gemini-${tag}`, priority: 0 }, { channelId: `openai-${tag}`, priority: 1 }] }),
        modelRoute('gemini-only', { prices: { resale: PRICE }, targets: [{ channelId: `gemini-${tag}` }] }),
      ],
    });
    const { key, orgId } = await gw.customer(BALANCE);
    // Gemini cannot fetch a plain-http image; OpenAI can.
    const image = (model: string) => ({ model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://images.test/cat.png' } }] }] });
    const before = [first.requests.length, second.requests.length];
    const served = await gw.post(key.secret, image('m'));
    expect([served.status, served.headers.get('x-tollgate-provider')]).toEqual([200, 'openai']);
    const event = await gw.settled(served.headers.get('x-request-id')!);
    expect(event.attempts.map((a) => [a.provider, a.outcome, a.errorClass])).toEqual([['google', 'failed', 'unsupported'], ['openai', 'ok', null]]);
    const refused = await gw.post(key.secret, image('gemini-only'));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unsupported_parameter');
    // The refusal held nothing and called nothing: no slot, no connection, no money.
    expect([first.requests.length, second.requests.length]).toEqual([before[0], before[1]! + 1]);
    const after = await gw.settled(refused.headers.get('x-request-id')!);
    expect(after.cost).toBe('0');
    expect((await gw.store.getBalance(orgId))!.held).toBe(0n);
  });
});
