import { costOf, usage } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, endlessStream, errorEventAfterChunks, hugeBody, rawBytes, stallForeverAfterChunks, startUpstream, UPSTREAM_SECRET, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { parseOpenAIChat } from '../codecs/openai-chat/parse.ts';
import { estimateInputTokens } from '../metering/estimate.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const MAX_OUTPUT = 1_000;
const BALANCE = 10_000_000_000n;

/** Upstreams that misbehave: bounded memory, bounded money, our errors only. */
describe.each(storeAdapters)('a hostile upstream over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(makeStore, { limits: { maxResponseBytes: 4 * 1024 * 1024 }, breaker: { threshold: 1000 } });
    await gw.publish({
      channels: [channelRecord(gw.masterKey, 'ch', { baseUrl: up.url, timeouts: { idleMs: 300 } })],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: 'ch' }], maxOutputTokens: MAX_OUTPUT })],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await up?.close();
  });

  const body = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const holdOf = (request: Record<string, unknown>, outputTokens: number) =>
    costOf(usage({ input: estimateInputTokens(parseOpenAIChat(Buffer.from(JSON.stringify(request)))), output: outputTokens }), PRICE);

  it('refuses a 300 MB answer with a bounded read: 502, nothing billed, memory bounded', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    up.enqueue(hugeBody(300));
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const response = await gw.post(key.secret, body());
    clearInterval(sampler);
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    // The gateway stopped reading at its 4 MiB bound and dropped the connection.
    expect(up.requests.at(-1)!.bytesWritten).toBeLessThan(64 * 1024 * 1024);
    expect(peak - baseline).toBeLessThan(64 * 1024 * 1024);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ cost: '0', attempts: [expect.objectContaining({ errorClass: 'too_large' })] });
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE, held: 0n });
  });

  it('cuts an endless stream at the hold with finish_reason length, and bills no more than the hold', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    up.enqueue(endlessStream({ maxBytes: 64 * 1024 * 1024, maxSeconds: 20 }));
    const request = body({ stream: true, stream_options: { include_usage: true } });
    const response = await gw.post(key.secret, request);
    const text = await response.text();
    const chunks = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((r) => r !== null)).toEqual(['length']);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    // The upstream was cut off soon after the output passed what the hold covers.
    await up.waitFor(() => up.requests.at(-1)!.abortedAt !== null);
    expect(Buffer.byteLength(text)).toBeLessThan(1024 * 1024);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    const hold = holdOf(request, MAX_OUTPUT);
    expect(event).toMatchObject({ status: 'cut_at_hold', hold: hold.toString() });
    expect(BigInt(event.cost) <= hold).toBe(true);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE - BigInt(event.cost), held: 0n });
  });

  it('bills reported usage above the hold at the hold, and flags it for the operator', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    up.enqueue(answer({ reply: 'short', usage: { promptTokens: 3_000_000_000, completionTokens: 3_000_000_000 } }));
    const request = body({ max_tokens: 10 });
    const response = await gw.post(key.secret, request);
    expect(response.status).toBe(200);
    const hold = holdOf(request, 10);
    expect(response.headers.get('x-tollgate-cost')).toBe((Number(hold) / 1e9).toString());
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ cost: hold.toString(), overHold: true, usageSource: 'reported' });
    expect(event.usage).toEqual(usage({ input: 3_000_000_000, output: 3_000_000_000 }));
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE - hold, held: 0n });
    expect(gw.logLines.some((l) => l.includes('billed at the hold'))).toBe(true);
  });

  it('replaces a mid-stream provider error event with our own, without the provider text', async () => {
    const { key } = await gw.customer(BALANCE);
    up.enqueue(errorEventAfterChunks(3));
    const response = await gw.post(key.secret, body({ stream: true }));
    const text = await response.text();
    expect(text).not.toContain(UPSTREAM_SECRET);
    expect(text).not.toContain('overloaded');
    expect(text.endsWith('"code":"upstream_error","param":null}}\n\ndata: [DONE]\n\n')).toBe(true);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.status).toBe('upstream_error');
  });

  it('ends a stream that goes silent past the idle timeout with an error event', async () => {
    const { key } = await gw.customer(BALANCE);
    up.enqueue(stallForeverAfterChunks(2));
    const started = Date.now();
    const response = await gw.post(key.secret, body({ stream: true }));
    const text = await response.text();
    expect(text.endsWith('"code":"upstream_error","param":null}}\n\ndata: [DONE]\n\n')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('treats a compressed body it did not ask for as a bad answer, not as text', async () => {
    const { key } = await gw.customer(BALANCE);
    up.enqueue(answer({ gzip: true }));
    const response = await gw.post(key.secret, body());
    expect(response.status).toBe(502);
    expect(up.requests.at(-1)!.headers['accept-encoding']).toBe('identity');
  });

  it('refuses an SSE frame larger than its bound before relaying it', async () => {
    const { key } = await gw.customer(BALANCE);
    up.enqueue(rawBytes([`data: {"choices":[{"index":0,"delta":{"content":"${'y'.repeat(2 * 1024 * 1024)}"}}]}\n\n`]));
    const response = await gw.post(key.secret, body({ stream: true }));
    expect(response.status).toBe(502);
  });

  it('bills the usage the provider had already reported when the client leaves before the end', async () => {
    const { key } = await gw.customer(BALANCE);
    const chunk = (payload: object) => `data: ${JSON.stringify(payload)}\n\n`;
    // Content, then the usage chunk, then silence (no [DONE]): the client leaves in the silence.
    up.enqueue(rawBytes([
      chunk({ id: 'c1', choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }] }),
      chunk({ id: 'c1', choices: [], usage: { prompt_tokens: 17, completion_tokens: 3 } }),
    ], { interrupt: { afterChunks: 2, action: 'hang' } }));
    const controller = new AbortController();
    const response = await gw.post(key.secret, body({ stream: true }), {}, controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    await up.waitFor(() => up.requests.at(-1)!.chunksWritten >= 2);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'client_aborted', usageSource: 'reported', usage: usage({ input: 17, output: 3 }) });
  });
});

/** What reaches the provider: only fields the gateway knows; price-changing ones reserved or refused. */
describe('request shaping', () => {
  let gw: Gateway;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(storeAdapters[0]![1]);
    await gw.publish({
      channels: [channelRecord(gw.masterKey, 'ch', { baseUrl: up.url })],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: 'ch', upstreamModel: 'up-m' }], maxOutputTokens: MAX_OUTPUT })],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('forwards only the fields it knows, never a base URL or storage flag', async () => {
    const { key } = await gw.customer(BALANCE);
    const response = await gw.post(key.secret, {
      model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5, api_base: 'http://169.254.169.254', store: true,
      service_tier: 'auto', metadata: { a: 'b' }, seed: 7, user: 'u-1', unknown_field: 1,
    });
    expect(response.status).toBe(200);
    expect(Object.keys(up.requests.at(-1)!.body!).sort()).toEqual(['messages', 'model', 'seed', 'temperature', 'user']);
    expect(up.requests.at(-1)!.body!.model).toBe('up-m');
  });

  it('refuses a price-changing field with 400 before any call', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    const before = up.requests.length;
    for (const extra of [{ service_tier: 'priority' }, { prediction: { type: 'content', content: 'x' } }, { audio: { voice: 'x' } }, { modalities: ['text', 'audio'] }]) {
      const response = await gw.post(key.secret, { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unsupported_parameter');
    }
    expect(up.requests.length).toBe(before);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE, held: 0n });
  });

  it('holds for every choice when n > 1, and forwards n', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    up.enqueue(answer({ firstByteDelayMs: 200 }));
    const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 3, max_tokens: 50 };
    const pending = gw.post(key.secret, request);
    await up.waitFor(() => up.stats().inFlight > 0);
    const expected = costOf(usage({ input: estimateInputTokens(parseOpenAIChat(Buffer.from(JSON.stringify(request)))), output: 150 }), PRICE);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE, held: expected });
    expect((await pending).status).toBe(200);
    expect(up.requests.at(-1)!.body!.n).toBe(3);
    expect((await gw.post(key.secret, { ...request, n: 17 })).status).toBe(400);
  });

  it("echoes the client's well-formed x-request-id and keeps ours for the books", async () => {
    const { key } = await gw.customer(BALANCE);
    const response = await gw.post(key.secret, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'client-trace-42' });
    expect(response.headers.get('x-request-id')).toBe('client-trace-42');
    const event = await gw.settled('client-trace-42');
    expect(event.clientRequestId).toBe('client-trace-42');
    expect(event.requestId).toMatch(/^req_[0-9a-f]{32}$/);
    const odd = await gw.post(key.secret, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'bad id with spaces' });
    expect(odd.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });
});
