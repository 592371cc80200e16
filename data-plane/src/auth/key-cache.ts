import type { KeyRecord, StateStore } from '@tollgate/shared';

/** The store holds no published state (it was wiped and is being republished). */
export class StoreNotLoadedError extends Error {
  override name = 'StoreNotLoadedError';
  constructor() {
    super('the state store holds no published state yet');
  }
}

/**
 * Key records by key hash, kept in process so a warm key costs no Redis round trip. Unknown hashes
 * are cached too (as null), so a client retrying a bad key does not hit Redis every time; the
 * control plane announces every key it creates or changes, and that announcement drops the entry.
 * Bounded: past `capacity` the oldest entry goes (Map iteration order is insertion order).
 */
export class KeyCache {
  private readonly entries = new Map<string, KeyRecord | null>();
  private readonly loading = new Map<string, Promise<KeyRecord | null>>();

  constructor(
    private readonly store: StateStore,
    private readonly capacity = 100_000,
  ) {}

  get(hash: string): KeyRecord | null | undefined {
    return this.entries.get(hash);
  }

  load(hash: string): Promise<KeyRecord | null> {
    const cached = this.entries.get(hash);
    if (cached !== undefined) return Promise.resolve(cached);
    // Concurrent first requests with one key share one lookup.
    const inFlight = this.loading.get(hash);
    if (inFlight) return inFlight;
    const lookup: Promise<KeyRecord | null> = this.lookup(hash).then((record) => {
      // An invalidation during the lookup removed it from `loading`: the answer may predate the
      // change, so it is returned to this request but not cached.
      if (this.loading.get(hash) === lookup) {
        this.loading.delete(hash);
        this.remember(hash, record);
      }
      return record;
    });
    lookup.catch(() => {
      if (this.loading.get(hash) === lookup) this.loading.delete(hash);
    });
    this.loading.set(hash, lookup);
    return lookup;
  }

  /**
   * A key the store does not know is unknown only if the store holds the published state: after a
   * wipe (no epoch) it is "not loaded yet", never "invalid", and nothing is cached.
   */
  private async lookup(hash: string): Promise<KeyRecord | null> {
    const record = await this.store.getKeyRecord(hash);
    if (record !== null) return record;
    if ((await this.store.getEpoch()) === null) throw new StoreNotLoadedError();
    return null;
  }

  private remember(hash: string, record: KeyRecord | null): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, record);
  }

  invalidate(hash: string): void {
    this.entries.delete(hash);
    this.loading.delete(hash);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
  }
}
