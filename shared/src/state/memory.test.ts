import { afterEach, describe, expect, it, vi } from 'vitest';
import { ZERO_USAGE } from '../canonical/usage.ts';
import type { UsageEvent } from '../usage.ts';
import { MEMORY_SETTLED_MS, MemoryStateStore } from './memory.ts';

// What only the in-process adapter does: forget settled request ids after minutes, not days.
// Everything else about it is the shared contract (contract.test.ts).

const settlement = (requestId: string): { event: UsageEvent; consumption: [] } => ({
  event: {
    v: 2, requestId, clientRequestId: null, orgId: 'org-m', keyId: 'key-1', model: 'gpt-test', tier: 'resale', lane: null,
    provider: 'openai', channelId: 'ch-1', byokCredentialId: null, upstreamModel: 'up', endpoint: '/v1/chat/completions',
    stream: false, usage: { ...ZERO_USAGE, input: 10, output: 5 }, usageSource: 'reported', chargeKind: 'usage',
    cost: '3', providerCost: '0', hold: '3', overHold: false, attempts: [], startedAt: 1_700_000_000_000, latencyMs: 12,
    status: 'ok', httpStatus: 200, errorCode: null,
  },
  consumption: [],
});

describe('the in-process store', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses a repeated settlement while it remembers the request, and lets the id go after MEMORY_SETTLED_MS', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStateStore();
    await store.seedBalance('org-m', 1_000n);
    expect(await store.settle(settlement('r1'))).toBe('settled');
    vi.advanceTimersByTime(MEMORY_SETTLED_MS - 1);
    expect(await store.settle(settlement('r1'))).toBe('already_settled');
    // Forgotten (and dropped as the next settlement arrives): memory follows the last ten minutes' requests.
    vi.advanceTimersByTime(2);
    expect(await store.settle(settlement('r2'))).toBe('settled');
    expect(await store.settle(settlement('r1'))).toBe('settled');
    expect((await store.getBalance('org-m'))!.balance).toBe(1_000n - 9n);
  });

  it('takes another lifetime from its options', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStateStore({ settledMemoryMs: 1_000 });
    await store.seedBalance('org-m', 1_000n);
    expect(await store.settle(settlement('r1'))).toBe('settled');
    vi.advanceTimersByTime(999);
    expect(await store.settle(settlement('r1'))).toBe('already_settled');
    vi.advanceTimersByTime(2);
    expect(await store.settle(settlement('r1'))).toBe('settled');
  });
});
