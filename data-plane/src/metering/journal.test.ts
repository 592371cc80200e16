import { encodeUsageEvent, usage, type UsageEvent } from '@tollgate/shared';
import { describe, expect, it } from 'vitest';
import { SettlementJournal } from './journal.ts';

const event = (requestId: string, model = 'm'): UsageEvent => ({
  v: 2, requestId, clientRequestId: null, orgId: 'org-j', keyId: 'key-j', model, tier: 'resale', lane: null, provider: 'openai',
  channelId: 'c', byokCredentialId: null, upstreamModel: 'u', endpoint: 'chat', stream: false, usage: usage({ input: 1, output: 7 }), usageSource: 'reported',
  chargeKind: 'usage', cost: '12', providerCost: '3', hold: '40', overHold: false, attempts: [], startedAt: 1_700_000_000_000, latencyMs: 1,
  status: 'ok', httpStatus: 200, errorCode: null,
});

describe('the settlement journal', () => {
  it('gives back exactly the events it took, across buffer boundaries and multi-byte text included', () => {
    const events = Array.from({ length: 40 }, (_, i) => event(`r${i}`, i === 9 ? 'modèle-日本語-🙂' : 'm'));
    // Buffers of a few events each, and buffers smaller than one event (each then gets its own).
    for (const chunkBytes of [1_500, 300]) {
      const journal = new SettlementJournal({ windowMs: 60_000, maxEvents: 1_000 }, chunkBytes);
      for (const e of events) journal.add(encodeUsageEvent(e), 1_000);
      expect(journal.size).toBe(40);
      expect(journal.events(1_000)).toEqual(events);
    }
  });

  it('keeps the most recent maxEvents, and only those settled within the window', () => {
    const journal = new SettlementJournal({ windowMs: 1_000, maxEvents: 3 }, 1_024);
    journal.add(encodeUsageEvent(event('a')), 0);
    journal.add(encodeUsageEvent(event('b')), 100);
    journal.add(encodeUsageEvent(event('c')), 200);
    journal.add(encodeUsageEvent(event('d')), 300);
    expect(journal.events(300).map((e) => e.requestId)).toEqual(['b', 'c', 'd']);
    // 'b' is 1,001 ms old: out; 'c' is exactly 1,000 ms old: in.
    expect(journal.events(1_200).map((e) => e.requestId)).toEqual(['c', 'd']);
    journal.prune(1_301);
    expect(journal.size).toBe(0);
    expect(journal.events(1_301)).toEqual([]);
    // Emptied, it takes events again.
    journal.add(encodeUsageEvent(event('e')), 2_000);
    expect(journal.events(2_000).map((e) => e.requestId)).toEqual(['e']);
  });

  it('holds nothing when turned off', () => {
    const journal = new SettlementJournal({ windowMs: 60_000, maxEvents: 0 });
    journal.add(encodeUsageEvent(event('a')), 0);
    expect([journal.size, journal.events(0)]).toEqual([0, []]);
  });

  it('gives a buffer\'s memory back to the system as soon as its events leave the window', () => {
    const mib = 1024 * 1024;
    const journal = new SettlementJournal({ windowMs: 1_000, maxEvents: 1_000_000 });
    const text = encodeUsageEvent(event('r', 'm'.repeat(400)));
    // 64 MiB of events, settled at t=0, each buffer written through (resident).
    while (journal.heldBytes < 64 * mib) journal.add(text, 0);
    expect(journal.heldBytes).toBe(64 * mib);
    const before = process.memoryUsage.rss();
    journal.prune(1_001);
    const after = process.memoryUsage.rss();
    expect([journal.size, journal.heldBytes]).toEqual([0, 0]);
    // Back at once, not at the next garbage collection (nothing here allocates enough to run one):
    // at least 60 of the 64 MiB (the last buffer is partly written; the rest is the process moving).
    expect(before - after).toBeGreaterThanOrEqual(60 * mib);
  });
});
