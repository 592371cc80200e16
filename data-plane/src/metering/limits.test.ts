import { costOf, NO_LIMITS, usage, type Limits } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { parseOpenAIChat } from '../codecs/openai-chat/parse.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';
import { estimateInputTokens } from './estimate.ts';
import { awayFromMinuteEdge } from '../../../test/support/clock.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const BODY = { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
/** The hold of BODY: its input estimate and 100 output tokens. */
const HOLD = costOf(usage({ input: estimateInputTokens(parseOpenAIChat(Buffer.from(JSON.stringify(BODY)))), output: 100 }), PRICE);
const limits = (o: Omit<Partial<Limits>, 'credit'> & { credit?: Partial<Limits['credit']> }): Limits => ({ ...NO_LIMITS, ...o, credit: { ...NO_LIMITS.credit, ...o.credit } });

/** Key permissions from the key record, each failing check named in its error code. */
describe.each(storeAdapters)('key permissions over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let proxied: Gateway;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream({ default: answer({ usage: { promptTokens: 10, completionTokens: 5 } }) });
    gw = await startGateway(makeStore);
    proxied = await startGateway(makeStore, { trustedProxies: ['127.0.0.1/32'] });
    for (const g of [gw, proxied]) {
      await g.publish({
        channels: [channelRecord(g.masterKey, 'r', { baseUrl: up.url, tier: 'resale' }), channelRecord(g.masterKey, 'c', { baseUrl: up.url, tier: 'cheap' })],
        models: [modelRoute('m', { prices: { resale: PRICE, cheap: PRICE }, targets: [{ channelId: 'r' }, { channelId: 'c' }] }), modelRoute('other', { prices: { resale: PRICE }, targets: [{ channelId: 'r' }] })],
      });
    }
  });
  afterAll(async () => {
    await gw?.stop();
    await proxied?.stop();
    await up?.close();
  });

  const send = async (g: Gateway, secret: string, body: object = BODY, headers: Record<string, string> = {}) => {
    const response = await g.post(secret, body, headers);
    const text = await response.text();
    return [response.status, response.status === 200 ? 'ok' : (JSON.parse(text) as { error: { code: string } }).error.code] as const;
  };

  it('allows only the models and tiers in the allowlist (exact names and tier/*)', async () => {
    const { key } = await gw.customer(10_000_000_000n, { limits: limits({ models: ['resale/*', 'cheap/other'] }) });
    expect(await send(gw, key.secret, { ...BODY, model: 'resale/m' })).toEqual([200, 'ok']);
    expect(await send(gw, key.secret, { ...BODY, model: 'cheap/m' })).toEqual([403, 'model_not_allowed']);
    const exact = await gw.customer(10_000_000_000n, { limits: limits({ models: ['m'] }) });
    expect(await send(gw, exact.key.secret, BODY)).toEqual([200, 'ok']);
    expect(await send(gw, exact.key.secret, { ...BODY, model: 'other' })).toEqual([403, 'model_not_allowed']);
  });

  it("refuses addresses outside the key's or the org's allowlist, and believes only a trusted proxy's X-Forwarded-For", async () => {
    const local = await gw.customer(10_000_000_000n, { limits: limits({ ipAllowlist: ['127.0.0.1/32'] }) });
    const remote = await gw.customer(10_000_000_000n, { limits: limits({ ipAllowlist: ['10.0.0.0/8'] }) });
    const orgOnly = await gw.customer(10_000_000_000n, { org: { limits: limits({ ipAllowlist: ['192.168.0.0/16'] }), overdraft: '0' } });
    expect(await send(gw, local.key.secret)).toEqual([200, 'ok']);
    expect(await send(gw, remote.key.secret)).toEqual([403, 'ip_not_allowed']);
    expect(await send(gw, orgOnly.key.secret)).toEqual([403, 'ip_not_allowed']);
    // Without a trusted proxy the header is the client's own words: ignored.
    expect(await send(gw, remote.key.secret, BODY, { 'x-forwarded-for': '10.1.2.3' })).toEqual([403, 'ip_not_allowed']);
    const viaProxy = await proxied.customer(10_000_000_000n, { limits: limits({ ipAllowlist: ['10.0.0.0/8'] }) });
    expect(await send(proxied, viaProxy.key.secret, BODY, { 'x-forwarded-for': '6.6.6.6, 10.1.2.3' })).toEqual([200, 'ok']);
    expect(await send(proxied, viaProxy.key.secret, BODY, { 'x-forwarded-for': '10.1.2.3, 6.6.6.6' })).toEqual([403, 'ip_not_allowed']);
  });

  it('counts requests per minute for the key and for the org', async () => {
    await awayFromMinuteEdge();
    const { key } = await gw.customer(10_000_000_000n, { limits: limits({ requestsPerMinute: 2 }) });
    const results = [await send(gw, key.secret), await send(gw, key.secret), await send(gw, key.secret)];
    expect(results).toEqual([[200, 'ok'], [200, 'ok'], [429, 'rate_limited']]);
    // Two keys of one org share the org's ceiling.
    await awayFromMinuteEdge();
    const first = await gw.customer(10_000_000_000n, { org: { limits: limits({ requestsPerMinute: 1 }), overdraft: '0' } });
    const second = await gw.createKey(first.orgId, { org: { limits: limits({ requestsPerMinute: 1 }), overdraft: '0' } });
    expect([await send(gw, first.key.secret), await send(gw, second.secret)]).toEqual([[200, 'ok'], [429, 'rate_limited']]);
  });

  it('counts tokens per minute: the estimate at admission, the real tokens after', async () => {
    // 10 + 5 real tokens per request: a limit of 20 takes one request, not two.
    await awayFromMinuteEdge();
    const { key } = await gw.customer(10_000_000_000n, { limits: limits({ tokensPerMinute: 20 }) });
    expect(await send(gw, key.secret)).toEqual([200, 'ok']);
    expect(await send(gw, key.secret)).toEqual([429, 'rate_limited']);
  });

  it('caps concurrent requests per key', async () => {
    const { key } = await gw.customer(10_000_000_000n, { limits: limits({ concurrency: 1 }) });
    up.enqueue(answer({ firstByteDelayMs: 300 }));
    const slow = send(gw, key.secret);
    await up.waitFor(() => up.stats().inFlight > 0);
    expect(await send(gw, key.secret)).toEqual([429, 'concurrency_limit']);
    expect(await slow).toEqual([200, 'ok']);
    expect(await send(gw, key.secret)).toEqual([200, 'ok']);
  });

  it('holds credit limits to the nanocredit: a hold must fit under the limit for every period', async () => {
    for (const period of ['lifetime', 'day', 'week', 'month'] as const) {
      const tight = await gw.customer(10_000_000_000n, { limits: limits({ credit: { [period]: (HOLD - 1n).toString() } }) });
      expect(await send(gw, tight.key.secret)).toEqual([402, 'credit_limit_reached']);
      const exact = await gw.customer(10_000_000_000n, { limits: limits({ credit: { [period]: HOLD.toString() } }) });
      expect(await send(gw, exact.key.secret)).toEqual([200, 'ok']);
    }
  });

  it("holds a member's monthly allowance", async () => {
    const tight = await gw.customer(10_000_000_000n, { member: { id: 'member-1', monthlyAllowance: (HOLD - 1n).toString() } });
    expect(await send(gw, tight.key.secret)).toEqual([402, 'credit_limit_reached']);
    const enough = await gw.customer(10_000_000_000n, { member: { id: 'member-2', monthlyAllowance: HOLD.toString() } });
    expect(await send(gw, enough.key.secret)).toEqual([200, 'ok']);
  });

  it("lets the balance go below zero by exactly the org's overdraft, no further", async () => {
    const short = await gw.customer(0n, { org: { limits: NO_LIMITS, overdraft: (HOLD - 1n).toString() } });
    expect(await send(gw, short.key.secret)).toEqual([402, 'insufficient_balance']);
    const covered = await gw.customer(0n, { org: { limits: NO_LIMITS, overdraft: HOLD.toString() } });
    expect(await send(gw, covered.key.secret)).toEqual([200, 'ok']);
    const balance = (await gw.store.getBalance(covered.orgId))!.balance;
    expect(balance < 0n && balance >= -HOLD).toBe(true);
  });
});
