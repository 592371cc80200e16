import type { UsageDelivery } from './port.ts';

interface StreamEntry {
  id: string;
  payload: string;
  storeDebited: boolean;
  /** Consumer holding the entry and when it was delivered; unset while undelivered. */
  owner?: string;
  deliveredAt?: number;
}

const deliveryOf = (entry: StreamEntry): UsageDelivery => ({ id: entry.id, payload: entry.payload, storeDebited: entry.storeDebited });

/**
 * The memory adapter's usage stream, with a Redis consumer group's semantics: entries delivered
 * once, held by their consumer until acknowledged, claimable by another once idle long enough.
 * Two maps in id order, so reads, claims and acknowledgements cost what they return, not the
 * stream's length: entries are delivered from the front of `undelivered` and move to the end of
 * `pending`, so every pending id is lower than every undelivered one, and each map stays in id
 * order (a claim changes an entry's owner, not its place, as in Redis's PEL).
 */
export class MemoryUsageStream {
  private readonly undelivered = new Map<string, StreamEntry>();
  private readonly pending = new Map<string, StreamEntry>();
  private sequence = 0;
  /** Readers blocked for new entries. */
  private readonly waiters = new Set<() => void>();
  private closed = false;

  append(payload: string, storeDebited: boolean): void {
    const id = `${Date.now()}-${this.sequence++}`;
    this.undelivered.set(id, { id, payload, storeDebited });
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async read(consumer: string, count: number, blockMs: number): Promise<UsageDelivery[]> {
    const batch = this.takeNew(consumer, count);
    if (batch.length > 0 || blockMs <= 0 || this.closed) return batch;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve();
      }, blockMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(wake);
    });
    return this.takeNew(consumer, count);
  }

  private takeNew(consumer: string, count: number): UsageDelivery[] {
    const out: UsageDelivery[] = [];
    const now = Date.now();
    for (const [id, entry] of this.undelivered) {
      if (out.length >= count) break;
      this.undelivered.delete(id);
      entry.owner = consumer;
      entry.deliveredAt = now;
      this.pending.set(id, entry);
      out.push(deliveryOf(entry));
    }
    return out;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<UsageDelivery[]> {
    const out: UsageDelivery[] = [];
    const now = Date.now();
    // Only delivered entries are looked at: as many as consumers hold unacknowledged, not the stream.
    for (const entry of this.pending.values()) {
      if (out.length >= count) break;
      if (now - entry.deliveredAt! < minIdleMs) continue;
      entry.owner = consumer;
      entry.deliveredAt = now;
      out.push(deliveryOf(entry));
    }
    return out;
  }

  /** Delivered (pending) entries first, then those not delivered yet: id order, as XRANGE lists them. */
  async unconsumed(limit: number): Promise<UsageDelivery[]> {
    const out: UsageDelivery[] = [];
    for (const entries of [this.pending, this.undelivered]) {
      for (const entry of entries.values()) {
        if (out.length >= limit) return out;
        out.push(deliveryOf(entry));
      }
    }
    return out;
  }

  /** Acknowledges and deletes (XACK + XDEL in one step): an id not delivered yet is deleted too, as in Redis. */
  ack(ids: string[]): void {
    for (const id of ids) {
      if (!this.pending.delete(id)) this.undelivered.delete(id);
    }
  }

  /** Wakes blocked readers; later reads do not block. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }
}
