import { costOf, feeOf, usage, type PlanRecord } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, fail, hang, resetConnection, startUpstream, type Behavior, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const SELL = price(1_000_000_000n, 2_000_000_000n);
const CHEAP = price(100_000_000n, 200_000_000n);
const LIST = price(3_000_000_000n, 6_000_000_000n);
const HI = { messages: [{ role: 'user', content: 'hi' }] };
const BALANCE = 100_000_000_000n;

/** Tier, BYOK and lane promises (DESIGN.md, "Routing model"), against real upstream fakes. */
describe.each(storeAdapters)('routing over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let resale: FakeUpstream;
  let resaleBackup: FakeUpstream;
  let cheap: FakeUpstream;
  let byok: FakeUpstream;

  beforeAll(async () => {
    resale = await startUpstream({ default: answer({ reply: 'resale' }) });
    resaleBackup = await startUpstream({ default: answer({ reply: 'resale backup' }) });
    cheap = await startUpstream({ default: answer({ reply: 'cheap' }) });
    byok = await startUpstream({ default: answer({ reply: 'byok' }) });
    // BYOK calls to OpenAI go to the local fake, as an operator's egress override would send them.
    gw = await startGateway(makeStore, { providerBaseUrls: { openai: byok.url, groq: byok.url }, breaker: { threshold: 1000 } });
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'resale-1', { baseUrl: resale.url, tier: 'resale', apiKey: 'sk-operator-resale-1', timeouts: { firstByteMs: 300 } }),
        channelRecord(gw.masterKey, 'resale-2', { baseUrl: resaleBackup.url, tier: 'resale', apiKey: 'sk-operator-resale-2', timeouts: { firstByteMs: 300 } }),
        channelRecord(gw.masterKey, 'cheap-1', { baseUrl: cheap.url, tier: 'cheap', apiKey: 'sk-operator-cheap' }),
      ],
      models: [
        modelRoute('m', {
          prices: { resale: SELL, cheap: CHEAP },
          targets: [{ channelId: 'resale-1', priority: 0 }, { channelId: 'resale-2', priority: 1 }, { channelId: 'cheap-1', priority: 0 }],
          byok: [
            { provider: 'openai', upstreamModel: 'gpt-byok', listPrice: { input: LIST.input.toString(), output: LIST.output.toString() } },
            { provider: 'groq', upstreamModel: 'llama-byok', listPrice: { input: LIST.input.toString(), output: LIST.output.toString() } },
          ],
        }),
        modelRoute('premium-model', { prices: { resale: SELL }, targets: [{ channelId: 'resale-1' }] }),
        modelRoute('economy-model', { prices: { cheap: CHEAP }, targets: [{ channelId: 'cheap-1' }] }),
      ],
      plans: [plan('flat', { premiumAllowanceTokens: 100 }), plan('strict', { premiumAllowanceTokens: 100, continuationAllowed: false }), plan('one-at-a-time', { concurrency: 1 })],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const fake of [resale, resaleBackup, cheap, byok]) await fake?.close();
  });

  function plan(id: string, o: Partial<PlanRecord>): PlanRecord {
    return {
      id, name: id, window: 'day', premiumAllowanceTokens: 1_000_000, concurrency: null, continuationAllowed: true, fallbackAllowed: true,
      lanes: { premium: { model: 'premium-model', tier: 'resale' }, continuation: { model: 'economy-model', tier: 'cheap' }, fallback: { model: 'm', tier: 'cheap' } },
      ...o,
    };
  }

  const post = (secret: string, model: string, headers: Record<string, string> = {}) => gw.post(secret, { model, ...HI }, headers);
  const codeOf = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

  it('routes each tier prefix to its own channels, and no prefix to the default tier', async () => {
    const { key } = await gw.customer(BALANCE, { defaultTier: 'cheap' });
    for (const [model, tier, from] of [['resale/m', 'resale', resale], ['cheap/m', 'cheap', cheap], ['m', 'cheap', cheap]] as const) {
      const before = from.requests.length;
      const response = await post(key.secret, model);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-tollgate-tier')).toBe(tier);
      expect(from.requests.length).toBe(before + 1);
    }
  });

  it('never lets resale fall back to a pooled channel, whatever fails', async () => {
    const { key } = await gw.customer(BALANCE);
    const failures: Behavior[] = [fail(500), fail(503), fail(429), resetConnection(), answer({ firstByteDelayMs: 1_000 }), hang()];
    const cheapBefore = cheap.requests.length;
    for (const a of failures) {
      for (const b of failures.slice(0, 3)) {
        resale.enqueue(a);
        resaleBackup.enqueue(b);
        const response = await post(key.secret, 'resale/m');
        expect(response.status).toBe(503);
        expect(await codeOf(response)).toBe('fallback_exhausted');
      }
    }
    expect(cheap.requests.length).toBe(cheapBefore);
  }, 60_000);

  it("uses only the calling org's own BYOK credential, never another org's or the operator's", async () => {
    const a = await gw.customer(BALANCE);
    const b = await gw.customer(BALANCE);
    const none = await gw.customer(BALANCE);
    await gw.byok(a.orgId, 'openai', 'sk-org-a-own-key-aaaa');
    await gw.byok(b.orgId, 'openai', 'sk-org-b-own-key-bbbb');
    for (const [customer, own] of [[a, 'sk-org-a-own-key-aaaa'], [b, 'sk-org-b-own-key-bbbb']] as const) {
      const before = byok.requests.length;
      const response = await post(customer.key.secret, 'byok/m');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-tollgate-tier')).toBe('byok');
      expect(response.headers.get('x-tollgate-provider')).toBe('openai');
      const sent = byok.requests.slice(before);
      expect(sent.map((r) => [r.headers.authorization, (r.body as { model: string }).model])).toEqual([[`Bearer ${own}`, 'gpt-byok']]);
    }
    const before = byok.requests.length;
    const refused = await post(none.key.secret, 'byok/m');
    expect(refused.status).toBe(403);
    expect(await codeOf(refused)).toBe('byok_not_configured');
    expect(byok.requests.length).toBe(before);
    // No byok request ever carried an operator key.
    for (const r of byok.requests) expect(String(r.headers.authorization)).not.toContain('operator');
  });

  it('forces the BYOK provider with x-byok-provider, and refuses one the org has no key for', async () => {
    const customer = await gw.customer(BALANCE);
    await gw.byok(customer.orgId, 'groq', 'gsk_org_groq_key_cccc');
    await gw.byok(customer.orgId, 'openai', 'sk-org-openai-key-dddd');
    const before = byok.requests.length;
    const forced = await post(customer.key.secret, 'byok/m', { 'x-byok-provider': 'groq' });
    expect(forced.status).toBe(200);
    expect(forced.headers.get('x-tollgate-provider')).toBe('groq');
    expect(byok.requests.slice(before).map((r) => r.headers.authorization)).toEqual(['Bearer gsk_org_groq_key_cccc']);
    expect((await post(customer.key.secret, 'byok/m', { 'x-byok-provider': 'anthropic' })).status).toBe(403);
    expect((await post(customer.key.secret, 'byok/m', { 'x-byok-provider': 'nonsense' })).status).toBe(400);
  });

  it('charges BYOK usage as the fee, 5% of the provider list price, as its own kind', async () => {
    const customer = await gw.customer(BALANCE);
    await gw.byok(customer.orgId, 'openai', 'sk-org-fee-key-eeee');
    byok.enqueue(answer({ reply: 'x', usage: { promptTokens: 1_000, completionTokens: 500 } }));
    const response = await post(customer.key.secret, 'byok/m');
    const event = await gw.settled(response.headers.get('x-request-id')!);
    const fee = feeOf(costOf(usage({ input: 1_000, output: 500 }), LIST), 500);
    expect(event).toMatchObject({ chargeKind: 'byok_fee', cost: fee.toString(), providerCost: '0', channelId: null, provider: 'openai' });
    expect(event.byokCredentialId).toMatch(/^byok-/);
    expect(await gw.store.getBalance(customer.orgId)).toEqual({ balance: BALANCE - fee, held: 0n });
  });

  it('refuses tiers a key is not allowed, before any upstream call', async () => {
    const { key } = await gw.customer(BALANCE, { allowedTiers: ['cheap'] });
    const before = resale.requests.length;
    const response = await post(key.secret, 'resale/m');
    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('tier_not_allowed');
    expect(resale.requests.length).toBe(before);
    expect((await post(key.secret, 'cheap/m')).status).toBe(200);
  });

  it('serves auto on the premium lane until the fair-use allowance is spent, then continues on economy', async () => {
    const { key } = await gw.customer(BALANCE, { planId: 'flat' });
    resale.enqueue(answer({ reply: 'premium', usage: { promptTokens: 80, completionTokens: 30 } }));
    const first = await post(key.secret, 'auto');
    expect([first.status, first.headers.get('x-tollgate-lane'), first.headers.get('x-tollgate-fair-use-remaining')]).toEqual([200, 'premium', '100']);
    await gw.settled(first.headers.get('x-request-id')!);
    const second = await post(key.secret, 'auto');
    expect([second.status, second.headers.get('x-tollgate-lane'), second.headers.get('x-tollgate-tier'), second.headers.get('x-tollgate-fair-use-remaining')]).toEqual([200, 'continuation', 'cheap', '0']);
    // auto:premium states a preference for premium only: refused once the allowance is spent.
    const strict = await post(key.secret, 'auto:premium');
    expect(strict.status).toBe(402);
    expect(await codeOf(strict)).toBe('plan_limit');
    const economy = await post(key.secret, 'auto:economy');
    expect([economy.status, economy.headers.get('x-tollgate-lane')]).toEqual([200, 'continuation']);
  });

  it('answers 402 plan_limit past the allowance when the plan allows no continuation', async () => {
    const { key } = await gw.customer(BALANCE, { planId: 'strict' });
    resale.enqueue(answer({ usage: { promptTokens: 100, completionTokens: 1 } }));
    const first = await post(key.secret, 'auto');
    expect(first.status).toBe(200);
    await gw.settled(first.headers.get('x-request-id')!);
    const second = await post(key.secret, 'auto');
    expect(second.status).toBe(402);
    expect(await codeOf(second)).toBe('plan_limit');
  });

  it("caps concurrent requests at the plan's limit with 429 concurrency_limit, and frees the slot after", async () => {
    const { key } = await gw.customer(BALANCE, { planId: 'one-at-a-time' });
    resale.enqueue(answer({ firstByteDelayMs: 200 }));
    const slow = post(key.secret, 'auto');
    await resale.waitFor(() => resale.stats().inFlight > 0);
    const refused = await post(key.secret, 'auto');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await codeOf(refused)).toBe('concurrency_limit');
    expect((await slow).status).toBe(200);
    expect((await post(key.secret, 'auto')).status).toBe(200);
  });

  it("goes to the plan's fallback lane when every premium target failed", async () => {
    const { key } = await gw.customer(BALANCE, { planId: 'flat' });
    resale.enqueue(fail(503));
    const response = await post(key.secret, 'auto');
    expect([response.status, response.headers.get('x-tollgate-lane'), response.headers.get('x-tollgate-tier')]).toEqual([200, 'fallback', 'cheap']);
    expect(response.headers.get('x-tollgate-attempts')).toBe('2');
  });

  it('refuses auto without a plan, and unknown models, with the name cut to 200 characters', async () => {
    const { key } = await gw.customer(BALANCE);
    const auto = await post(key.secret, 'auto');
    expect(auto.status).toBe(403);
    const long = 'x'.repeat(250);
    const missing = await post(key.secret, long);
    expect(missing.status).toBe(404);
    const message = ((await missing.json()) as { error: { message: string } }).error.message;
    expect(message).toBe(`The model "${'x'.repeat(200)}…" does not exist.`);
  });
});
