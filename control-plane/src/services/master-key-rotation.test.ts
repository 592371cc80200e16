import { randomBytes } from 'node:crypto';
import { byokCredentialAad, channelCredentialAad, decodeCredential, isSealedWith, masterKeyRing, openSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, createOrg, generousRateLimits } from '../testing/fixtures.ts';
import { createHarness, mutate, type Harness } from '../testing/harness.ts';
import { rewrapAllSecrets } from './master-key-rotation.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits() });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('master-key rotation', () => {
  it('re-wraps every channel and BYOK credential under the new key; each stays readable, and published', async () => {
    const channelId = await createChannel(h, { credential: 'sk-rotate-channel-0000' });
    const orgId = await createOrg(h);
    await mutate(h, 'setByokCredential', 'SetByokCredentialInput', 'id', { orgId, provider: 'openai', credential: 'sk-rotate-byok-1111' });
    const next = randomBytes(32);
    const ring = masterKeyRing(next, [h.masterKey], 'env');

    const report = await rewrapAllSecrets(h.database.db, ring);
    expect(report).toEqual({ channels: 1, byokCredentials: 1, unreadable: [] });
    const channel = (await h.database.db.query.providerChannels.findFirst({ where: { id: channelId } }))!;
    const credential = (await h.database.db.query.byokCredentials.findFirst({ where: { orgId } }))!;
    expect(isSealedWith(next, channel.credentialSealed)).toBe(true);
    // Readable with the new key alone: the old one can go.
    expect(decodeCredential(openSecret(next, channel.credentialSealed, channelCredentialAad(channelId)))).toEqual({ kind: 'api_key', apiKey: 'sk-rotate-channel-0000' });
    expect(decodeCredential(openSecret(next, credential.credentialSealed, byokCredentialAad(orgId, credential.id)))).toEqual({ kind: 'api_key', apiKey: 'sk-rotate-byok-1111' });

    // The data plane gets the re-wrapped values through the outbox.
    await h.controlPlane.outbox.deliver();
    expect((await h.store.getRouteTable())!.channels[channelId]!.credentialSealed).toBe(channel.credentialSealed);
    expect((await h.store.getByokRecord(orgId, 'openai'))!.credentialSealed).toBe(credential.credentialSealed);

    // A second run has nothing to do; a key outside the ring is reported, not guessed.
    expect(await rewrapAllSecrets(h.database.db, ring)).toEqual({ channels: 0, byokCredentials: 0, unreadable: [] });
    const stranger = await rewrapAllSecrets(h.database.db, masterKeyRing(randomBytes(32), [], 'env'));
    expect(stranger.unreadable).toHaveLength(2);
  });
});
