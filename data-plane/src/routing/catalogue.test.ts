import { costOf, NO_LIMITS, usage } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const SELL = price(1_000_000_000n, 2_000_000_000n);
const OTHER = price(5_000_000_000n, 5_000_000_000n);
const BALANCE = 100_000_000_000n;

/**
 * The catalogue's context window, capabilities and aliases as a data plane serves them: an alias
 * reaches its model's targets and is billed and recorded under the model's name; GET /v1/models
 * lists each model once with them; tables from older control planes still load.
 */
describe.each(storeAdapters)('aliases and model details over the %s store', (_name, makeStore) => {
  let gw: Gateway;
  let upstream: FakeUpstream;
  let other: FakeUpstream;

  beforeAll(async () => {
    upstream = await startUpstream({ default: answer({ reply: 'm' }) });
    other = await startUpstream({ default: answer({ reply: 'n' }) });
    gw = await startGateway(makeStore);
    await gw.publish({
      channels: [
        channelRecord(gw.masterKey, 'ch-m', { baseUrl: upstream.url, tier: 'resale' }),
        channelRecord(gw.masterKey, 'ch-m-cheap', { baseUrl: upstream.url, tier: 'cheap' }),
        channelRecord(gw.masterKey, 'ch-n', { baseUrl: other.url, tier: 'resale' }),
      ],
      models: [
        {
          ...modelRoute('m', { prices: { resale: SELL, cheap: SELL }, targets: [{ channelId: 'ch-m', upstreamModel: 'm-upstream' }, { channelId: 'ch-m-cheap', upstreamModel: 'm-upstream' }], maxOutputTokens: 8192 }),
          contextWindow: 200_000,
          capabilities: ['vision', 'tools', 'json_schema'],
          aliases: ['m-latest', 'em'],
        },
        // A table that breaks the control plane's uniqueness: the name `n` stays n's.
        { ...modelRoute('n', { prices: { resale: OTHER }, targets: [{ channelId: 'ch-n', upstreamModel: 'n-upstream' }] }), aliases: ['m', 'n-latest'] },
        // As published by a control plane from before these fields.
        modelRoute('old', { prices: { resale: OTHER }, targets: [{ channelId: 'ch-n', upstreamModel: 'old-upstream' }] }),
      ],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
    await other?.close();
  });

  const get = async (secret: string, path: string) => {
    const response = await fetch(`${gw.base}${path}`, { headers: { authorization: `Bearer ${secret}` } });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('serves an alias with its model\'s targets, and bills and records it under the model\'s name', async () => {
    const { key, orgId } = await gw.customer(BALANCE);
    upstream.enqueue(answer({ reply: 'hello', usage: { promptTokens: 1_000, completionTokens: 500 } }));
    const before = upstream.requests.length;
    const response = await gw.post(key.secret, { model: 'm-latest', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect(upstream.requests.slice(before).map((r) => (r.body as { model: string }).model)).toEqual(['m-upstream']);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    const cost = costOf(usage({ input: 1_000, output: 500 }), SELL);
    expect(cost).toBe(2_000_000n);
    expect([event.model, event.tier, event.channelId, event.upstreamModel, event.cost]).toEqual(['m', 'resale', 'ch-m', 'm-upstream', cost.toString()]);
    expect(response.headers.get('x-tollgate-cost')).toBe('0.002');
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: BALANCE - cost, held: 0n });
  });

  it('takes a tier prefix before an alias, and lets a key limited to the model use its aliases', async () => {
    const { key } = await gw.customer(BALANCE, { limits: { ...NO_LIMITS, models: ['m'] } });
    const cheap = await gw.post(key.secret, { model: 'cheap/em', messages: [{ role: 'user', content: 'hi' }] });
    expect([cheap.status, cheap.headers.get('x-tollgate-tier')]).toEqual([200, 'cheap']);
    const event = await gw.settled(cheap.headers.get('x-request-id')!);
    expect([event.model, event.tier, event.channelId]).toEqual(['m', 'cheap', 'ch-m-cheap']);
    // n is not m, whatever n's aliases say.
    const refused = await gw.post(key.secret, { model: 'n-latest', messages: [{ role: 'user', content: 'hi' }] });
    expect(refused.status).toBe(403);
  });

  it('keeps a name its model\'s even when another model lists it as an alias', async () => {
    const { key } = await gw.customer(BALANCE);
    const before = [upstream.requests.length, other.requests.length];
    const response = await gw.post(key.secret, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect([upstream.requests.length - before[0]!, other.requests.length - before[1]!]).toEqual([1, 0]);
    expect(gw.logLines.some((l) => l.includes('alias skipped: another model already has this name') && l.includes('"alias":"m"'))).toBe(true);
  });

  it('lists each model once with its context window, capabilities, output cap and aliases', async () => {
    const { key } = await gw.customer(BALANCE);
    const { status, body } = await get(key.secret, '/v1/models');
    expect(status).toBe(200);
    const byId: Record<string, any> = Object.fromEntries((body.data as { id: string }[]).map((m) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual(['m', 'n', 'old']);
    expect(byId.m).toEqual({
      id: 'm',
      object: 'model',
      created: Math.floor(Date.UTC(2026, 0, 1) / 1000),
      owned_by: 'tollgate',
      context_window: 200_000,
      tollgate: {
        tiers: ['cheap', 'resale'],
        pricing: {
          cheap: { input: '1', output: '2', cached_input: '1', cache_write: '1', reasoning: '2' },
          resale: { input: '1', output: '2', cached_input: '1', cache_write: '1', reasoning: '2' },
        },
        capabilities: ['vision', 'tools', 'json_schema'],
        max_output_tokens: 8192,
        aliases: ['m-latest', 'em'],
      },
    });
    expect([byId.old.context_window, byId.old.tollgate.capabilities, byId.old.tollgate.aliases, byId.old.tollgate.max_output_tokens]).toEqual([null, [], [], 4096]);
  });

  it('answers GET /v1/models/<alias> with the model it names', async () => {
    const { key } = await gw.customer(BALANCE);
    const byAlias = await get(key.secret, '/v1/models/m-latest');
    expect([byAlias.status, byAlias.body.id, byAlias.body.context_window]).toEqual([200, 'm', 200_000]);
    const prefixed = await get(key.secret, '/v1/models/cheap/em');
    expect([prefixed.status, prefixed.body.id]).toEqual([200, 'cheap/m']);
    expect((await get(key.secret, '/v1/models/nothing-by-that-name')).status).toBe(404);
  });
});
