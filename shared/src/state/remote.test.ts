import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isStoreUnavailable } from './errors.ts';
import { MemoryStateStore } from './memory.ts';
import type { StateStore } from './port.ts';
import { RemoteStateStore, StoreCallRefusedError, StorePortClosedError, type RemoteStateStoreOptions } from './remote.ts';
import { serveStateStore } from './remote-serve.ts';

// What the contract suite cannot show: the proxy's own bounds and failure modes. The contract
// itself runs against the proxy in contract.test.ts ("memory over a message port").

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function connect(owned: StateStore, maxInFlight?: number, options: Omit<RemoteStateStoreOptions, 'kind' | 'maxInFlight'> = {}): { remote: RemoteStateStore; stopServing: () => Promise<void> } {
  const { port1, port2 } = new MessageChannel();
  const stopServing = serveStateStore(owned, port1);
  const remote = new RemoteStateStore(port2, { kind: owned.kind, ...(maxInFlight ? { maxInFlight } : {}), ...options });
  cleanups.push(async () => (await remote.close(), await stopServing(), await owned.close()));
  return { remote, stopServing };
}

describe('state store over a message port', () => {
  it('keeps nanocredit amounts beyond 2^53 exact both ways', async () => {
    const { remote } = connect(new MemoryStateStore());
    const big = 2n ** 62n + 1n;
    expect(await remote.seedBalance('org-big', big)).toBe(true);
    expect(await remote.adjustBalance('org-big', -3n)).toBe(true);
    expect(await remote.getBalance('org-big')).toEqual({ balance: big - 3n, held: 0n });
  });

  it('sends at most maxInFlight calls at once; the others wait their turn and all complete', async () => {
    const owned = new MemoryStateStore();
    let running = 0;
    let peak = 0;
    const slow = Object.assign(Object.create(owned) as StateStore, {
      async getEpoch(): Promise<string | null> {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return 'e1';
      },
    });
    const { remote } = connect(slow, 3);
    const answers = await Promise.all(Array.from({ length: 20 }, () => remote.getEpoch()));
    expect(answers).toEqual(Array(20).fill('e1'));
    expect(peak).toBe(3);
  });

  it('refuses a call the owner does not answer within its deadline, and one that finds the line full, as store-unavailable', async () => {
    const owned = new MemoryStateStore();
    const answers: ((value: string) => void)[] = [];
    let started = 0;
    // An owner that takes calls and answers only when the test says so.
    const stuck = Object.assign(Object.create(owned) as StateStore, {
      getEpoch(): Promise<string | null> {
        started++;
        return new Promise<string>((resolve) => answers.push(resolve));
      },
    });
    const { remote } = connect(stuck, 1, { maxQueued: 1, callTimeoutMs: 200 });
    const inFlight = remote.getEpoch().then(() => null, (e: unknown) => e);
    const queued = remote.getEpoch().then(() => null, (e: unknown) => e);
    // The line holds one call: a third is refused at once.
    const full = await remote.getEpoch().then(() => null, (e: unknown) => e);
    expect(full).toBeInstanceOf(StoreCallRefusedError);
    expect((full as Error).message).toBe('state store call getEpoch refused: 1 calls already wait for the thread that owns the store');
    expect(isStoreUnavailable(full)).toBe(true);

    const [late, waited] = await Promise.all([inFlight, queued]);
    expect((late as Error).message).toBe('state store call getEpoch refused: no answer within 200 ms');
    expect((waited as Error).message).toBe('state store call getEpoch refused: no answer within 200 ms (waiting for a turn)');
    expect([late, waited].map(isStoreUnavailable)).toEqual([true, true]);
    // The first call was sent; the one that waited never was. Its slot stays taken until the owner
    // answers, so the owner never has more than maxInFlight calls.
    expect(started).toBe(1);
    const next = remote.getEpoch();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toBe(1);
    answers[0]!('late answer');
    await vi.waitFor(() => expect(started).toBe(2));
    answers[1]!('e2');
    expect(await next).toBe('e2');
  });

  it('fails calls in flight, waiting and later with a clear "unreachable" error once the owner closes the port', async () => {
    const owned = new MemoryStateStore();
    const { remote, stopServing } = connect(owned, 1);
    const blocked = remote.readUsage('consumer', 10, 5_000); // in flight: nothing to read for 5 s
    const waiting = remote.getEpoch(); // waits for the one slot
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stopServing();
    for (const call of [blocked, waiting, remote.getBalance('org')]) {
      const error = await call.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StorePortClosedError);
      expect((error as Error).message).toMatch(/state store is unreachable/);
      // Callers treat it like an unreachable Redis: retry later, never a wrong answer.
      expect(isStoreUnavailable(error)).toBe(true);
    }
  });

  it('forwards announcements to subscribers in this thread until they unsubscribe', async () => {
    const owned = new MemoryStateStore();
    const { remote } = connect(owned);
    const seen: string[] = [];
    const unsubscribe = await remote.subscribe({ onAnnouncement: (a) => seen.push(a.kind === 'key' ? a.hash : a.kind), onResync: () => seen.push('resync') });
    // Written by the owner's own thread (the data plane's side), heard across the port.
    await owned.putKeyRecord('h1', null);
    await remote.putKeyRecord('h2', null);
    await expect.poll(() => seen).toEqual(['h1', 'h2']);
    await unsubscribe();
    await owned.putKeyRecord('h3', null);
    await remote.getEpoch(); // a round trip after the write: anything forwarded would be here by now
    expect(seen).toEqual(['h1', 'h2']);
  });

  it('never closes the owner\'s store: closing the client leaves it serving its own thread', async () => {
    const owned = new MemoryStateStore();
    const { remote } = connect(owned);
    await remote.setEpoch('e1');
    await remote.close();
    await expect(remote.getEpoch()).rejects.toBeInstanceOf(StorePortClosedError);
    expect(await owned.getEpoch()).toBe('e1');
  });
});
