import { generateSecret, seal, sealedKeyAssociatedData, type KeyRecord, type StateStore, type TokenPrice } from '@tollgate/shared';

export const TEST_MODEL = 'gpt-test';
export const TEST_UPSTREAM_MODEL = 'gpt-test-upstream';

/** Publishes a route table with one resale channel to `upstreamUrl` serving TEST_MODEL at `price`. */
export async function publishTestRoutes(store: StateStore, masterKey: Buffer, upstreamUrl: string, channelKey: string, price: TokenPrice): Promise<void> {
  await store.putRouteTable({
    v: 1,
    version: 1,
    channels: {
      ch1: { id: 'ch1', name: 'fake-openai', protocol: 'openai', baseUrl: upstreamUrl, tier: 'resale', apiKeySealed: seal(masterKey, channelKey, sealedKeyAssociatedData('ch1')) },
    },
    models: {
      [TEST_MODEL]: {
        name: TEST_MODEL,
        price: { inputPerMillion: price.inputPerMillion.toString(), outputPerMillion: price.outputPerMillion.toString() },
        targets: [{ channelId: 'ch1', upstreamModel: TEST_UPSTREAM_MODEL, priority: 0, weight: 1 }],
        createdAt: Date.UTC(2026, 0, 1),
      },
    },
  });
}

let customers = 0;

/** A fresh org with its own active key and balance, so tests never share money. */
export async function createCustomer(store: StateStore, balance: bigint, record: Partial<KeyRecord> = {}) {
  const n = ++customers;
  const orgId = `org-${process.pid}-${n}`;
  const keyId = `key-${process.pid}-${n}`;
  const key = generateSecret('api_key');
  await store.putKeyRecord(key.hash, { v: 1, id: keyId, orgId, defaultTier: 'resale', status: 'active', expiresAt: null, ...record });
  await store.seedBalance(orgId, balance);
  return { orgId, keyId, key };
}
