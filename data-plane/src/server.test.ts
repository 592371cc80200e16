import { generateSecret, formatCredits, costOf, usage } from '@tollgate/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeAdapters } from '../../test/support/stores.ts';
import { countTokens } from './metering/tokenizer.ts';
import { CHANNEL_KEY, EXPECTED_COST, HELLO, PRICE, startHarness, USAGE, type Harness } from './testing/harness.ts';

/** The /v1 surface end to end: the real uWS server, the fake upstream, each store adapter. */
describe.each(storeAdapters)('data plane over the %s store', (_name, makeStore) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(makeStore);
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.fake.reset());

  it('serves a plain completion and debits exactly the reported cost', async () => {
    const { orgId, keyId, client, key } = await h.customer(10_000_000_000n);
    const { data, response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello there, friend');
    expect(response.headers.get('x-tollgate-tier')).toBe('resale');
    // The provider, never the operator's internal channel name.
    expect(response.headers.get('x-tollgate-provider')).toBe('openai');
    expect(response.headers.get('x-tollgate-attempts')).toBe('1');
    expect(response.headers.get('x-tollgate-cost')).toBe(formatCredits(EXPECTED_COST));
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^req_[0-9a-f]{32}$/);

    const event = await h.settledEvent(requestId);
    expect(event).toMatchObject({
      orgId, keyId, model: 'gpt-test', tier: 'resale', lane: null, provider: 'openai', channelId: 'ch1', upstreamModel: 'gpt-test-upstream',
      stream: false, usage: usage({ input: USAGE.promptTokens, output: USAGE.completionTokens }), usageSource: 'reported',
      chargeKind: 'usage', cost: EXPECTED_COST.toString(), overHold: false, status: 'ok', httpStatus: 200, errorCode: null,
      attempts: [expect.objectContaining({ channelId: 'ch1', provider: 'openai', outcome: 'ok', status: 200 })],
    });
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n - EXPECTED_COST, held: 0n });

    const upstream = h.fake.requests.at(-1)!;
    expect(upstream.body.model).toBe('gpt-test-upstream');
    expect(upstream.headers.authorization).toBe(`Bearer ${CHANNEL_KEY}`);
    expect(JSON.stringify(upstream.headers)).not.toContain(key.secret);
  });

  it('streams, hides the usage chunk the client did not ask for, and meters the reported usage', async () => {
    const { orgId, client } = await h.customer(10_000_000_000n);
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'resale/gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe('Hello there, friend');
    expect(sawUsage).toBe(false);
    expect(h.fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ stream: true, usageSource: 'reported', cost: EXPECTED_COST.toString(), status: 'ok' });
    expect((await h.store.getBalance(orgId))?.balance).toBe(10_000_000_000n - EXPECTED_COST);
  });

  it('passes the usage chunk through when the client asks for it', async () => {
    const { client } = await h.customer(10_000_000_000n);
    const stream = await client.chat.completions.create({
      model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
    });
    const usages = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toEqual([expect.objectContaining({ prompt_tokens: USAGE.promptTokens, completion_tokens: USAGE.completionTokens })]);
  });

  it('estimates usage, and says so, when the provider reports none', async () => {
    h.fake.setBehavior({ usage: null });
    const { client } = await h.customer(10_000_000_000n);
    const { response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event.usageSource).toBe('estimated');
    // Counted by the tokenizer, as the provider would have.
    expect(event.usage.output).toBe(await countTokens('Hello there, friend'));
    expect(BigInt(event.cost)).toBe(costOf(event.usage, PRICE));
  });

  it('lists each model once with its tiers, and retrieves one with or without a tier prefix', async () => {
    const { client } = await h.customer(1n);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-test']);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'tollgate', tollgate: { tiers: ['resale'] } });
    expect(await client.models.retrieve('gpt-test')).toMatchObject({ id: 'gpt-test', tollgate: { tiers: ['resale'] } });
    expect(await client.models.retrieve('resale/gpt-test')).toMatchObject({ id: 'resale/gpt-test' });
    await expect(client.models.retrieve('cheap/gpt-test')).rejects.toMatchObject({ status: 404 });
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses bad keys with 401 and never calls upstream', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const revoked = await h.customer(10_000_000_000n, { status: 'revoked' });
    const expired = await h.customer(10_000_000_000n, { expiresAt: Date.now() - 1 });
    const unknown = generateSecret('api_key').secret;
    const badChecksum = `${key.secret.slice(0, -1)}${key.secret.endsWith('0') ? '1' : '0'}`;
    const before = h.fake.requests.length;
    const disabled = await h.customer(10_000_000_000n, { status: 'disabled' });
    const cases: [string | null, string][] = [
      [null, 'invalid_api_key'], ['not-a-key', 'invalid_api_key'], [badChecksum, 'invalid_api_key'], [unknown, 'invalid_api_key'],
      [revoked.key.secret, 'invalid_api_key'], [expired.key.secret, 'key_expired'], [disabled.key.secret, 'key_disabled'],
    ];
    for (const [secret, code] of cases) {
      const response = await h.post(secret, HELLO);
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(JSON.parse(text).error).toMatchObject({ code, type: 'authentication_error' });
      expect(secret === null || !text.includes(secret)).toBe(true);
      expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    }
    expect(h.fake.requests.length).toBe(before);
  });

  it('applies a revocation to the very next request through the announcement', async () => {
    const { key, orgId } = await h.customer(10_000_000_000n);
    expect((await h.post(key.secret, HELLO)).status).toBe(200);
    await h.store.putKeyRecord(key.hash, { v: 2, id: 'k', orgId, defaultTier: 'resale', status: 'revoked', expiresAt: null, allowedTiers: null, planId: null });
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = (await h.post(key.secret, HELLO)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
  });

  it('answers bad input with typed 4xx errors and changes nothing', async () => {
    const { key, orgId } = await h.customer(10_000_000_000n);
    const cases: [string, number, string][] = [
      ['{not json', 400, 'invalid_json'],
      ['[1,2]', 400, 'invalid_json'],
      [JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_request'],
      [JSON.stringify({ model: 'gpt-test', messages: [] }), 400, 'invalid_request'],
      [JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }], max_tokens: -5 }), 400, 'invalid_request'],
      [JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), 404, 'model_not_found'],
      [JSON.stringify({ model: 'cheap/gpt-test', messages: [{ role: 'user', content: 'x' }] }), 403, 'model_not_allowed'],
      ['x'.repeat(5 * 1024 * 1024), 413, 'body_too_large'],
    ];
    const before = h.fake.requests.length;
    for (const [body, status, code] of cases) {
      const response = await h.post(key.secret, body);
      expect(response.status, code).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(h.fake.requests.length).toBe(before);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: 0n });
    expect((await fetch(`${h.base}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${h.base}/v1/chat/completions`)).status).toBe(405);
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
  });

  it('refuses with 402 when the balance cannot cover the reservation, before any upstream call', async () => {
    const { key } = await h.customer(0n);
    const before = h.fake.requests.length;
    const response = await h.post(key.secret, HELLO);
    expect(response.status).toBe(402);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('insufficient_balance');
    expect(h.fake.requests.length).toBe(before);
  });

  it('hides the provider error body and charges nothing when upstream fails', async () => {
    h.fake.setBehavior({ status: 500, errorBody: `{"error":{"message":"Incorrect API key provided: ${CHANNEL_KEY}"}}` });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, HELLO);
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(JSON.parse(text).error.code).toBe('upstream_error');
    expect(text).not.toContain(CHANNEL_KEY);
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect(event).toMatchObject({ status: 'upstream_error', cost: '0', httpStatus: 502, errorCode: 'upstream_error' });
    // The operator sees why, sanitised: the status and the provider's message without the key.
    expect(event.attempts).toEqual([expect.objectContaining({ outcome: 'failed', status: 500, errorClass: 'status' })]);
    expect(event.attempts[0]!.message).toContain('Incorrect API key provided');
    expect(JSON.stringify(event)).not.toContain(CHANNEL_KEY);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n, held: 0n });
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    h.fake.setBehavior({ hang: true });
    const { key } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, HELLO);
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
  });

  it('aborts the upstream when the client goes away mid-stream and settles once, estimated', async () => {
    h.fake.setBehavior({ chunks: 40, chunkDelayMs: 25 });
    const { key, orgId } = await h.customer(10_000_000_000n);
    const controller = new AbortController();
    const response = await fetch(`${h.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'long story' }] }),
      signal: controller.signal,
    });
    const requestId = response.headers.get('x-request-id')!;
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const event = await h.settledEvent(requestId);
    expect(event).toMatchObject({ status: 'client_aborted', usageSource: 'estimated', stream: true });
    for (let i = 0; i < 50 && !h.fake.requests.at(-1)!.aborted; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.fake.requests.at(-1)!.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const again = (await h.usageEvents()).filter((e) => e.requestId === requestId);
    expect(again).toEqual([]);
    expect(await h.store.getBalance(orgId)).toEqual({ balance: 10_000_000_000n - BigInt(event.cost), held: 0n });
  });

  it('never logs a customer key or a channel key', () => {
    const text = h.logLines.join('\n');
    expect(text).not.toContain(CHANNEL_KEY);
    expect(text).not.toMatch(/tg_[0-9A-Za-z]{40,}/);
  });
});
