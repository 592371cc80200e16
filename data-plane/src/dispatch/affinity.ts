import { createHash } from 'node:crypto';
import type { Logger, StateStore } from '@tollgate/shared';

/** How much of the prompt's beginning identifies a prompt-cache prefix. */
const PREFIX_CHARS = 1_024;
const LOCAL_CAPACITY = 50_000;

/**
 * The affinity key of a request: the client's `x-session-id`, else a hash of its key and the leading
 * prompt prefix. Providers cache prompt prefixes per account, so requests sharing a prefix are
 * cheaper and faster on the target that served the first one. Scoped by API key: two customers'
 * sessions never share a key.
 */
export function affinityKeyOf(keyId: string, sessionId: string | null, promptTexts: readonly string[]): string {
  const hash = createHash('sha256').update(keyId).update('\0');
  if (sessionId !== null) return hash.update('s\0').update(sessionId).digest('base64url');
  hash.update('p\0');
  let left = PREFIX_CHARS;
  for (const text of promptTexts) {
    const piece = text.length > left ? text.slice(0, left) : text;
    hash.update(piece).update('\0');
    left -= piece.length;
    if (left <= 0) break;
  }
  return hash.digest('base64url');
}

/**
 * Which target each affinity key stuck to, for a TTL: in the store (shared by every data plane),
 * with a bounded local copy so a warm session costs no round trip.
 */
export class Affinity {
  private readonly local = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly store: StateStore,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  async lookup(key: string, now: number): Promise<string | null> {
    const hit = this.local.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    try {
      const value = await this.store.getAffinity(key);
      if (value !== null) this.keep(key, value, now);
      return value;
    } catch (error) {
      this.logger.warn('affinity lookup failed; routing without it', { error });
      return null;
    }
  }

  remember(key: string, candidateKey: string, now: number): void {
    const hit = this.local.get(key);
    // The same target again: only refresh the store once a good part of the TTL has passed.
    if (hit && hit.value === candidateKey && hit.expiresAt - now > this.ttlMs / 2) return;
    this.keep(key, candidateKey, now);
    this.store.setAffinity(key, candidateKey, this.ttlMs).catch((error: unknown) => this.logger.warn('affinity update failed', { error }));
  }

  private keep(key: string, value: string, now: number): void {
    this.local.delete(key);
    if (this.local.size >= LOCAL_CAPACITY) {
      const oldest = this.local.keys().next();
      if (!oldest.done) this.local.delete(oldest.value);
    }
    this.local.set(key, { value, expiresAt: now + this.ttlMs });
  }
}
