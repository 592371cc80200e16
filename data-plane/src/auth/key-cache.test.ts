import { describe, expect, it } from 'vitest';
import { MemoryStateStore, type KeyRecord } from '@tollgate/shared';
import { KeyCache, StoreNotLoadedError } from './key-cache.ts';

const record = (status: KeyRecord['status']): KeyRecord => ({ v: 2, id: 'k', orgId: 'o', defaultTier: 'resale', status, expiresAt: null, allowedTiers: null, planId: null });

/** A store whose key lookups wait until released, to interleave an invalidation. */
class SlowStore extends MemoryStateStore {
  lookups = 0;
  private gate: (() => void) | null = null;
  override async getKeyRecord(hash: string): Promise<KeyRecord | null> {
    this.lookups++;
    const answer = await super.getKeyRecord(hash);
    await new Promise<void>((resolve) => (this.gate = resolve));
    return answer;
  }
  release(): void {
    this.gate?.();
  }
}

describe('KeyCache', () => {
  it('shares one lookup among concurrent requests and caches the answer, unknown keys included', async () => {
    const store = new SlowStore();
    await store.setEpoch('published');
    const cache = new KeyCache(store);
    const both = Promise.all([cache.load('h'), cache.load('h')]);
    await Promise.resolve();
    store.release();
    expect(await both).toEqual([null, null]);
    expect(store.lookups).toBe(1);
    expect(cache.get('h')).toBeNull();
  });

  it('does not cache an answer that an invalidation overtook', async () => {
    const store = new SlowStore();
    const cache = new KeyCache(store);
    await store.putKeyRecord('h', record('active'));
    const pending = cache.load('h');
    await new Promise((r) => setTimeout(r, 0));
    await store.putKeyRecord('h', record('revoked'));
    cache.invalidate('h');
    store.release();
    expect((await pending)?.status).toBe('active');
    expect(cache.get('h')).toBeUndefined();
    const next = cache.load('h');
    await new Promise((r) => setTimeout(r, 0));
    store.release();
    expect((await next)?.status).toBe('revoked');
  });

  it('stays within its capacity, dropping the oldest entry', async () => {
    const store = new MemoryStateStore();
    await store.setEpoch('published');
    const cache = new KeyCache(store, 2);
    for (const hash of ['a', 'b', 'c']) await cache.load(hash);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeNull();
    expect(cache.get('c')).toBeNull();
  });

  it('never calls a key unknown while the store holds no published state (a wipe), and caches nothing', async () => {
    const store = new MemoryStateStore();
    const cache = new KeyCache(store);
    await expect(cache.load('h')).rejects.toBeInstanceOf(StoreNotLoadedError);
    expect(cache.get('h')).toBeUndefined();
    await store.setEpoch('republished');
    expect(await cache.load('h')).toBeNull();
    expect(cache.get('h')).toBeNull();
  });
});
