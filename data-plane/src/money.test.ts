import { costOf, usage, type UsageEvent } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, startUpstream, type FakeUpstream } from '../../test/fakes/upstream.ts';
import { storeAdapters } from '../../test/support/stores.ts';
import { parseOpenAIChat } from './codecs/openai-chat/parse.ts';
import { estimateInputTokens } from './metering/estimate.ts';
import { channelRecord, modelRoute, price } from './testing/fixture.ts';
import { startGateway, type Gateway } from './testing/gateway.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const BODY = { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
const HOLD = costOf(usage({ input: estimateInputTokens(parseOpenAIChat(Buffer.from(JSON.stringify(BODY)))), output: 100 }), PRICE);

/**
 * The money invariants under load, against real Redis: whatever the concurrency and whatever an
 * upstream reports, no balance goes below what the operator allowed, every request is counted
 * once, and the balance is exactly the credit minus the sum of the events.
 */
describe('money under concurrency', () => {
  let gw: Gateway;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    gw = await startGateway(storeAdapters[1]![1]);
    await gw.publish({
      channels: [channelRecord(gw.masterKey, 'ch', { baseUrl: up.url, maxConcurrency: 10_000 })],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: 'ch' }] })],
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await up?.close();
  });

  async function eventsOf(orgId: string, count: number): Promise<UsageEvent[]> {
    const out: UsageEvent[] = [];
    for (let i = 0; i < 300 && out.length < count; i++) {
      const batch = await gw.store.readUsage('money-test', 1_000, 0);
      await gw.store.ackUsage(batch.map((d) => d.id));
      out.push(...batch.map((d) => JSON.parse(d.payload) as UsageEvent).filter((e) => e.orgId === orgId));
      if (out.length < count) await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  }

  it('200 concurrent requests worth 3x the balance, against an upstream that over-reports: never below the overdraft', async () => {
    // Credit for 200 / 3 holds; every answer claims a million output tokens.
    const balance = (HOLD * 200n) / 3n;
    const overdraft = HOLD / 2n;
    const { key, orgId } = await gw.customer(balance, { org: { limits: { models: null, ipAllowlist: null, requestsPerMinute: null, tokensPerMinute: null, concurrency: null, credit: { lifetime: null, day: null, week: null, month: null } }, overdraft: overdraft.toString() } });
    up.setDefault(answer({ usage: { promptTokens: 10, completionTokens: 1_000_000 }, firstByteDelayMs: 20 }));
    let lowest = balance;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const view = await gw.store.getBalance(orgId);
        if (view && view.balance < lowest) lowest = view.balance;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const statuses = await Promise.all(Array.from({ length: 200 }, async () => (await gw.post(key.secret, BODY)).status));
    sampling = false;
    await sampler;
    up.setDefault(answer());
    const admitted = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 402).length;
    expect(admitted + refused).toBe(200);
    expect(admitted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const events = await eventsOf(orgId, admitted);
    expect(events).toHaveLength(admitted);
    // Each billed at most its hold (the over-report is flagged), so the total stays within the overdraft.
    expect(events.every((e) => e.overHold && BigInt(e.cost) === HOLD)).toBe(true);
    const spent = events.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    const final = await gw.store.getBalance(orgId);
    expect(final).toEqual({ balance: balance - spent, held: 0n });
    expect(final!.balance >= -overdraft).toBe(true);
    expect(lowest >= -overdraft).toBe(true);
  }, 60_000);

  it('1,000 streamed requests with random disconnects: one event each, none free with output, none twice', async () => {
    const { key, orgId } = await gw.customer(1_000_000_000_000n);
    up.setDefault(answer({ reply: 'x'.repeat(40), chunks: 8, chunkDelayMs: 5, usage: { promptTokens: 10, completionTokens: 8 } }));
    const requestIds = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 1_000) {
        const i = next++;
        const controller = new AbortController();
        // About a third leave early, at a random moment.
        if (i % 3 === 0) setTimeout(() => controller.abort(), Math.floor(Math.random() * 60));
        try {
          const response = await gw.post(key.secret, { ...BODY, stream: true }, {}, controller.signal);
          requestIds.add(response.headers.get('x-request-id')!);
          await response.text();
        } catch {
          // aborted before or while reading: the request may or may not have reached admission
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    up.setDefault(answer());
    // Every request that got an answer head has exactly one event; aborted ones that were admitted too.
    await new Promise((r) => setTimeout(r, 500));
    const events = await eventsOf(orgId, requestIds.size);
    const byId = new Map<string, number>();
    for (const e of events) byId.set(e.requestId, (byId.get(e.requestId) ?? 0) + 1);
    expect([...byId.values()].every((n) => n === 1)).toBe(true);
    for (const id of requestIds) expect(byId.get(id)).toBe(1);
    // Nothing that produced output went unbilled.
    expect(events.filter((e) => e.usage.output > 0 && e.cost === '0')).toEqual([]);
    const spent = events.reduce((sum, e) => sum + BigInt(e.cost), 0n);
    expect(await gw.store.getBalance(orgId)).toEqual({ balance: 1_000_000_000_000n - spent, held: 0n });
  }, 120_000);
});
