import { hashSecret, MemoryStateStore, type KeyRecord, type StateStore } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, generousRateLimits } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { Publisher } from './publisher.ts';
import { PublicationOutbox } from './outbox.ts';

/** A state store that refuses writes while `down` is set, as Redis does when it is unreachable. */
class FlakyStore extends MemoryStateStore {
  down = false;
  override async putKeyRecord(hash: string, record: KeyRecord | null): Promise<void> {
    if (this.down) throw new Error('state store unreachable');
    return super.putKeyRecord(hash, record);
  }
}

let h: Harness;
let store: FlakyStore;
beforeAll(async () => {
  store = new FlakyStore();
  h = await createHarness({ database: 'pglite', store, rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('the publication outbox', () => {
  it('keeps a committed change whose publication failed, and publishes it once the store is back', async () => {
    const orgId = await createOrg(h);
    store.down = true;
    const created = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret apiKey { id }', { orgId, name: 'while down' });
    // The change committed and the caller got its secret; the data plane does not know it yet.
    expect(created.typename).toBe('MutationCreateApiKeySuccess');
    const hash = hashSecret(created.data.secret);
    expect(await store.getKeyRecord(hash)).toBeNull();
    expect(await h.controlPlane.outbox.backlog()).toBe(1);
    const row = (await h.database.db.query.publications.findFirst())!;
    expect(row).toMatchObject({ kind: 'key', attempts: 1, lastError: 'state store unreachable' });

    store.down = false;
    // The retry is due after its backoff; a later delivery (the timer's, or the next change's) publishes it.
    await h.database.db.update((await import('../db/schema/index.ts')).publications).set({ nextAttemptAt: new Date(0) });
    await h.controlPlane.outbox.deliver();
    expect(await store.getKeyRecord(hash)).toMatchObject({ id: created.data.apiKey.id, status: 'active' });
    expect(await h.controlPlane.outbox.backlog()).toBe(0);
  });

  it('survives a crash between commit and publication: a new process publishes what it finds', async () => {
    const orgId = await createOrg(h);
    store.down = true;
    const created = await mutate(h, 'createApiKey', 'CreateApiKeyInput', 'secret', { orgId, name: 'orphaned' });
    store.down = false;
    // "Another process" over the same database and store: its start delivers the row at once.
    const fresh: StateStore = store;
    const outbox = new PublicationOutbox(h.database.db, new Publisher(h.database.db, fresh));
    await h.database.db.update((await import('../db/schema/index.ts')).publications).set({ nextAttemptAt: new Date(0) });
    await outbox.deliver();
    await outbox.close();
    expect(await store.getKeyRecord(hashSecret(created.data.secret))).toMatchObject({ status: 'active' });
  });
});
