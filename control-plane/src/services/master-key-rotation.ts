import { byokCredentialAad, channelCredentialAad, isSealedWith, rewrapSecret, type MasterKeyRing } from '@tollgate/shared';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { byokCredentials, providerChannels } from '../db/schema/index.ts';
import { enqueuePublications, type PublicationRequest } from './outbox.ts';

export interface RewrapReport {
  channels: number;
  byokCredentials: number;
  /** Records no key of the ring opens (ids only); they stay as they are. */
  unreadable: string[];
}

/**
 * Master-key rotation: re-wraps the data key of every sealed secret (channel credentials, BYOK
 * credentials) that is not under the ring's current key, leaving ciphertexts alone, and queues
 * their publication in the same transaction as each row. Each row is updated only if unchanged
 * since it was read, so a concurrent edit wins and is re-wrapped on the next run. Idempotent:
 * a second run finds nothing to do. Data planes must hold the ring (old and new keys) until it
 * has run, then the old key can go.
 */
export async function rewrapAllSecrets(db: Db, ring: MasterKeyRing): Promise<RewrapReport> {
  const report: RewrapReport = { channels: 0, byokCredentials: 0, unreadable: [] };
  const channels = await db.select({ id: providerChannels.id, sealed: providerChannels.credentialSealed }).from(providerChannels);
  for (const row of channels) {
    if (isSealedWith(ring.current, row.sealed)) continue;
    let sealed: string;
    try {
      sealed = rewrapSecret(ring.keys, row.sealed, channelCredentialAad(row.id), ring.current);
    } catch {
      report.unreadable.push(`channel ${row.id}`);
      continue;
    }
    await db.transaction(async (tx) => {
      const [changed] = await tx
        .update(providerChannels)
        .set({ credentialSealed: sealed })
        .where(and(eq(providerChannels.id, row.id), eq(providerChannels.credentialSealed, row.sealed)))
        .returning({ id: providerChannels.id });
      if (changed) {
        report.channels++;
        await enqueuePublications(tx, [{ kind: 'routes' }]);
      }
    });
  }
  const credentials = await db
    .select({ id: byokCredentials.id, orgId: byokCredentials.orgId, provider: byokCredentials.provider, sealed: byokCredentials.credentialSealed })
    .from(byokCredentials);
  for (const row of credentials) {
    if (isSealedWith(ring.current, row.sealed)) continue;
    let sealed: string;
    try {
      sealed = rewrapSecret(ring.keys, row.sealed, byokCredentialAad(row.orgId, row.id), ring.current);
    } catch {
      report.unreadable.push(`byok credential ${row.id}`);
      continue;
    }
    await db.transaction(async (tx) => {
      const [changed] = await tx
        .update(byokCredentials)
        .set({ credentialSealed: sealed })
        .where(and(eq(byokCredentials.id, row.id), eq(byokCredentials.credentialSealed, row.sealed)))
        .returning({ id: byokCredentials.id });
      if (changed) {
        report.byokCredentials++;
        const publication: PublicationRequest = { kind: 'byok', orgId: row.orgId, provider: row.provider };
        await enqueuePublications(tx, [publication]);
      }
    });
  }
  return report;
}
