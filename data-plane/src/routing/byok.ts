import { byokCredentialAad, decodeCredential, openSecret, providerBaseUrl, type Credential, type Logger, type ProviderId, type StateStore } from '@tollgate/shared';

export interface LiveByok {
  id: string;
  credential: Credential;
}

/** Where a provider's API lives for BYOK calls: an operator override (an egress proxy), else the shared rule. */
export function byokBaseUrl(provider: ProviderId, credential: Credential, overrides: Partial<Record<ProviderId, string>>): string | null {
  return overrides[provider] ?? providerBaseUrl(provider, credential);
}

/**
 * Customers' own provider credentials, loaded per (org, provider) when a byok request needs one,
 * never broadcast in one table. Opened once per load and kept in process (bounded); the control
 * plane announces every change, which drops the entry. Absent credentials are cached too, so a
 * byok request for a provider the org has not configured costs no store round trip after the first.
 */
export class ByokCredentials {
  private readonly entries = new Map<string, LiveByok | null>();
  private readonly loading = new Map<string, Promise<LiveByok | null>>();

  constructor(
    private readonly store: StateStore,
    private readonly masterKey: Buffer | readonly Buffer[],
    private readonly logger: Logger,
    readonly baseUrls: Partial<Record<ProviderId, string>> = {},
    private readonly capacity = 10_000,
  ) {}

  get(orgId: string, provider: string): Promise<LiveByok | null> {
    const key = `${orgId}\0${provider}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const lookup = this.load(orgId, provider).then((found) => {
      // An invalidation during the lookup removed it from `loading`: answer, but do not cache.
      if (this.loading.get(key) === lookup) {
        this.loading.delete(key);
        if (this.entries.size >= this.capacity) {
          const oldest = this.entries.keys().next();
          if (!oldest.done) this.entries.delete(oldest.value);
        }
        this.entries.set(key, found);
      }
      return found;
    });
    lookup.catch(() => {
      if (this.loading.get(key) === lookup) this.loading.delete(key);
    });
    this.loading.set(key, lookup);
    return lookup;
  }

  private async load(orgId: string, provider: string): Promise<LiveByok | null> {
    const record = await this.store.getByokRecord(orgId, provider);
    // A record filed under another org is never used, whatever its key says.
    if (!record || record.orgId !== orgId || record.provider !== provider) return null;
    try {
      return { id: record.id, credential: decodeCredential(openSecret(this.masterKey, record.credentialSealed, byokCredentialAad(orgId, record.id))) };
    } catch (error) {
      this.logger.error('byok credential unusable: cannot open it', { orgId, provider, credentialId: record.id, error });
      return null;
    }
  }

  invalidate(orgId: string, provider: string): void {
    const key = `${orgId}\0${provider}`;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
  }
}
