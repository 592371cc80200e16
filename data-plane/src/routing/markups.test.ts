import { costOf, encodePrice, formatCredits, markupPrice, usage, type Price } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, fail, startUpstream, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

// Rates that do not divide evenly, so the rounding shows: 0.333333333 and 1.666666667 credits per million.
const COST_A: Price = price(333_333_333n, 1_666_666_667n);
const COST_B: Price = price(500_000_000n, 2_000_000_000n);
const CHEAP_COST: Price = price(100_000_000n, 300_000_000n);
const CHEAP_SELL: Price = price(200_000_000n, 400_000_000n);
const BALANCE = 100_000_000_000n;
const USAGE = { promptTokens: 1_000, completionTokens: 500 };
const USED = usage({ input: 1_000, output: 500 });
const HI = [{ role: 'user', content: 'hi' }];

/**
 * Sell prices as cost × markup on a running data plane: each target billed at its own cost times
 * the markup (each rate rounded up to a nanocredit, the request's sum rounded up once), an org's
 * own markup overriding the model's and an explicit price, and what GET /v1/models shows each org.
 */
describe.each(storeAdapters)('markups over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let first: FakeUpstream;
  let second: FakeUpstream;
  let cheap: FakeUpstream;
  /** The org with its own markup. */
  let insider: Awaited<ReturnType<Gateway['customer']>>;

  beforeAll(async () => {
    first = await startUpstream({ default: answer({ usage: USAGE }) });
    second = await startUpstream({ default: answer({ usage: USAGE }) });
    cheap = await startUpstream({ default: answer({ usage: USAGE }) });
    gw = await startGateway(makeStore, { breaker: { threshold: 1000 } });
    insider = await gw.customer(BALANCE);
    const special = insider.orgId;
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'a', { baseUrl: first.url, tier: 'resale' }),
        channelRecord(gw.masterKey, 'b', { baseUrl: second.url, tier: 'resale' }),
        channelRecord(gw.masterKey, 'c', { baseUrl: cheap.url, tier: 'cheap' }),
      ],
      models: [
        {
          ...modelRoute('mk', {
            prices: { cheap: CHEAP_SELL },
            targets: [{ channelId: 'a', priority: 0, cost: COST_A }, { channelId: 'b', priority: 1, cost: COST_B }, { channelId: 'c', cost: CHEAP_COST }],
          }),
          markups: { resale: 12_000 },
          orgMarkups: { [special]: { resale: 15_000, cheap: 11_000 } },
        },
        // Sold on resale to one org only, through its own markup.
        { ...modelRoute('private', { prices: {}, targets: [{ channelId: 'a', cost: COST_B }] }), orgMarkups: { [special]: { resale: 10_000 } } },
      ],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const fake of [first, second, cheap]) await fake?.close();
  });

  async function billed(customer: { key: { secret: string } }, model: string) {
    const response = await gw.post(customer.key.secret, { model, messages: HI });
    expect(response.status).toBe(200);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    return { cost: BigInt(event.cost), providerCost: BigInt(event.providerCost), channelId: event.channelId, header: response.headers.get('x-tollgate-cost') };
  }

  it('bills cost × markup with each rate rounded up, the sum rounded up once', async () => {
    const customer = await gw.customer(BALANCE);
    // 1,000 × ceil(333,333,333 × 1.2) + 500 × ceil(1,666,666,667 × 1.2) = 400,000,000,000 + 1,000,000,000,500
    // nanocredits per million tokens: 1,400,001 nanocredits after rounding up (cost × 1.2 exactly is 1,399,999.9998).
    expect(markupPrice(COST_A, 12_000)).toEqual(price(400_000_000n, 2_000_000_001n));
    const bill = await billed(customer, 'mk');
    expect(bill).toEqual({ cost: 1_400_001n, providerCost: costOf(USED, COST_A), channelId: 'a', header: formatCredits(1_400_001n) });
    expect(await gw.store.getBalance(customer.orgId)).toEqual({ balance: BALANCE - 1_400_001n, held: 0n });
  });

  it('bills a fallback target at its own cost × markup', async () => {
    const customer = await gw.customer(BALANCE);
    first.enqueue(fail(503));
    const bill = await billed(customer, 'resale/mk');
    expect([bill.cost, bill.channelId]).toEqual([costOf(USED, markupPrice(COST_B, 12_000)), 'b']);
    expect(bill.cost).toBe(1_800_000n);
  });

  it("bills an org with its own markup at it, on a markup tier and over an explicit price", async () => {
    const customer = insider;
    const resale = await billed(customer, 'mk');
    expect([resale.cost, resale.channelId]).toEqual([costOf(USED, markupPrice(COST_A, 15_000)), 'a']);
    expect(resale.cost).toBe(1_750_001n);
    const cheapBill = await billed(customer, 'cheap/mk');
    expect([cheapBill.cost, cheapBill.channelId]).toEqual([costOf(USED, markupPrice(CHEAP_COST, 11_000)), 'c']);
    expect(cheapBill.cost).toBe(275_000n);
    // Everyone else pays the explicit cheap price.
    const other = await gw.customer(BALANCE);
    expect((await billed(other, 'cheap/mk')).cost).toBe(costOf(USED, CHEAP_SELL));
  });

  it('sells a tier only the org with a markup for it may use', async () => {
    expect((await billed(insider, 'private')).cost).toBe(costOf(USED, COST_B));
    const outsider = await gw.customer(BALANCE);
    const refused = await gw.post(outsider.key.secret, { model: 'private', messages: HI });
    expect(refused.status).toBe(403);
  });

  it("lists each org's own prices: the dearest target's under a markup", async () => {
    const list = async (secret: string) => {
      const response = await fetch(`${gw.base}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
      return Object.fromEntries(((await response.json()) as { data: { id: string; tollgate: { pricing: Record<string, { input: string; output: string }> } }[] }).data.map((m) => [m.id, m.tollgate.pricing]));
    };
    const credits = (p: Price) => ({ input: formatCredits(p.input), output: formatCredits(p.output) });
    const everyone = await list((await gw.customer(BALANCE)).key.secret);
    expect(Object.keys(everyone)).toEqual(['mk']);
    expect(everyone.mk!.resale).toMatchObject(credits(markupPrice(COST_B, 12_000)));
    expect(everyone.mk!.cheap).toMatchObject(credits(CHEAP_SELL));
    const theirs = await list(insider.key.secret);
    expect(Object.keys(theirs)).toEqual(['mk', 'private']);
    expect(theirs.mk!.resale).toMatchObject(credits(markupPrice(COST_B, 15_000)));
    expect(theirs.mk!.cheap).toMatchObject(credits(markupPrice(CHEAP_COST, 11_000)));
    expect(theirs.private!.resale).toMatchObject(credits(COST_B));
  });

  it('never serves a target under a markup when its cost is unreadable', async () => {
    const route = modelRoute('broken', { prices: {}, targets: [{ channelId: 'a', cost: COST_A }] });
    await gw.publish({
      channels: [channelRecord(gw.masterKey, 'a', { baseUrl: first.url, tier: 'resale' })],
      models: [{ ...route, targets: [{ ...route.targets[0]!, cost: { ...encodePrice(COST_A), input: 'lots' } }], markups: { resale: 12_000 } }],
    });
    const customer = await gw.customer(BALANCE);
    const response = await gw.post(customer.key.secret, { model: 'broken', messages: HI });
    expect(response.status).toBe(403);
  });
});
