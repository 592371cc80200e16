import { MemoryStateStore, silentLogger, usage, type UsageEvent } from '@tollgate/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Settlements } from './settlements.ts';

const event = (requestId: string): UsageEvent => ({
  v: 2, requestId, clientRequestId: null, orgId: 'org-j', keyId: 'key-j', model: 'm', tier: 'resale', lane: null, provider: 'openai',
  channelId: 'c', byokCredentialId: null, upstreamModel: 'u', endpoint: 'chat', stream: false, usage: usage({ input: 1 }), usageSource: 'reported',
  chargeKind: 'usage', cost: '1', providerCost: '0', hold: '1', overHold: false, attempts: [], startedAt: 1_700_000_000_000, latencyMs: 1,
  status: 'ok', httpStatus: 200, errorCode: null,
});

describe('the journal of recent settlements', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps the most recent events within its window and count, and replays them as not debited', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStateStore();
    const settlements = new Settlements(store, silentLogger, 100, { windowMs: 1_000, maxEvents: 3 });
    for (const id of ['a', 'b', 'c', 'd']) {
      settlements.settle({ event: event(id), consumption: [] });
      await settlements.drain(1_000);
      vi.advanceTimersByTime(100);
    }
    expect(settlements.recent().map((e) => e.requestId)).toEqual(['b', 'c', 'd']);
    vi.advanceTimersByTime(750);
    // The window has passed for 'b' (settled 1,050 ms ago), not for 'c' and 'd'.
    expect(settlements.recent().map((e) => e.requestId)).toEqual(['c', 'd']);
    const before = (await store.unconsumedUsage(100)).length;
    expect(await settlements.replayRecent()).toBe(2);
    const appended = (await store.unconsumedUsage(100)).slice(before);
    expect(appended.map((d) => [JSON.parse(d.payload).requestId, d.storeDebited])).toEqual([
      ['c', false],
      ['d', false],
    ]);
  });

  it('lets go of its events once the window has passed, with no settlement coming to prune it', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const settlements = new Settlements(new MemoryStateStore(), silentLogger, 100, { windowMs: 10_000, maxEvents: 100 });
    for (const id of ['a', 'b', 'c']) settlements.settle({ event: event(id), consumption: [] });
    await vi.waitFor(() => expect(settlements.pending).toBe(0));
    expect(settlements.journaled).toBe(3);
    vi.advanceTimersByTime(9_000);
    expect(settlements.journaled).toBe(3);
    vi.advanceTimersByTime(2_000);
    expect(settlements.journaled).toBe(0);
    await settlements.drain(1_000);
  });
});

