import { channelCredentialAad, credentialLast4, openSecret, silentLogger, type Logger, type OperatorTier } from '@tollgate/shared';
import { and, asc, eq, inArray, isNotNull, like } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { legacyModelPrices, modelSellPrices, modelTargets, providerChannels } from '../db/schema/index.ts';
import { sealChannelCredential } from './credentials.ts';

/**
 * Converts data written before routing v2, which SQL migrations cannot (they cannot decrypt, and
 * the byok-tier bug must be logged): run at startup, before anything is published. Each step is
 * idempotent (it only touches rows still in the old form) and safe to run from two processes.
 */
export async function upgradeLegacyData(db: Db, masterKey: Buffer, logger: Logger = silentLogger): Promise<void> {
  await convertChannelTiers(db, logger);
  await resealChannelCredentials(db, masterKey, logger);
  await convertLegacyPrices(db, logger);
}

/**
 * Channels of tier `byok` were used for every org's byok requests: org B's request went upstream
 * with org A's key. They become disabled resale channels; the operator decides what they are.
 */
async function convertChannelTiers(db: Db, logger: Logger): Promise<void> {
  const rows = await db
    .select({ id: providerChannels.id, name: providerChannels.name, legacyTier: providerChannels.legacyTier })
    .from(providerChannels)
    .where(isNotNull(providerChannels.legacyTier));
  for (const row of rows) {
    const byok = row.legacyTier === 'byok';
    const tier: OperatorTier = row.legacyTier === 'cheap' ? 'cheap' : 'resale';
    const [changed] = await db
      .update(providerChannels)
      .set({ tier, legacyTier: null, ...(byok ? { enabled: false } : {}) })
      .where(and(eq(providerChannels.id, row.id), isNotNull(providerChannels.legacyTier)))
      .returning({ id: providerChannels.id });
    if (changed && byok) {
      logger.warn(
        `channel "${row.name}" was a byok-tier channel, which served every org's byok requests with one key: it is now a disabled resale channel. ` +
          'BYOK credentials now belong to each org (setByokCredential); enable the channel only if it should serve resale traffic.',
        { channelId: row.id },
      );
    }
  }
  if (rows.length > 0) logger.info('converted channel tiers from before routing v2', { channels: rows.length });
}

/** Channel keys sealed in the single-layer `v1.` format become envelope-sealed typed credentials. */
async function resealChannelCredentials(db: Db, masterKey: Buffer, logger: Logger): Promise<void> {
  const rows = await db
    .select({ id: providerChannels.id, sealed: providerChannels.credentialSealed })
    .from(providerChannels)
    .where(like(providerChannels.credentialSealed, 'v1.%'));
  let converted = 0;
  for (const row of rows) {
    let apiKey: string;
    try {
      apiKey = openSecret(masterKey, row.sealed, channelCredentialAad(row.id));
    } catch (error) {
      // Left as it is (and out of the route table) until a master key that opens it is configured.
      logger.error('cannot open a channel credential from before routing v2; the channel stays unpublished', { channelId: row.id, error });
      continue;
    }
    const credential = { kind: 'api_key' as const, apiKey };
    const [changed] = await db
      .update(providerChannels)
      .set({ credentialSealed: sealChannelCredential(masterKey, row.id, credential), credentialLast4: credentialLast4(credential) })
      // Only if still the old value: another process may have converted it meanwhile.
      .where(and(eq(providerChannels.id, row.id), eq(providerChannels.credentialSealed, row.sealed)))
      .returning({ id: providerChannels.id });
    if (changed) converted++;
  }
  if (converted > 0) logger.info('resealed channel credentials from before routing v2 with envelope encryption', { channels: converted });
}

/**
 * Each old price row (one sell price for every tier, one cost) becomes a sell price, with the same
 * effective date, for the tiers the model's channels serve (resale when it has none); the cost in
 * effect now becomes its targets' cost. The old rows are deleted in the same transaction.
 */
async function convertLegacyPrices(db: Db, logger: Logger): Promise<void> {
  const modelIds = (await db.selectDistinct({ modelId: legacyModelPrices.modelId }).from(legacyModelPrices)).map((r) => r.modelId);
  const now = Date.now();
  for (const modelId of modelIds) {
    await db.transaction(async (tx) => {
      const old = await tx.select().from(legacyModelPrices).where(eq(legacyModelPrices.modelId, modelId)).orderBy(asc(legacyModelPrices.effectiveFrom)).for('update');
      if (old.length === 0) return;
      const served = await tx
        .selectDistinct({ tier: providerChannels.tier })
        .from(modelTargets)
        .innerJoin(providerChannels, eq(providerChannels.id, modelTargets.channelId))
        .where(eq(modelTargets.modelId, modelId));
      const tiers: OperatorTier[] = served.length > 0 ? served.map((s) => s.tier) : ['resale'];
      await tx
        .insert(modelSellPrices)
        .values(
          old.flatMap((p) =>
            tiers.map((tier) => ({ modelId, tier, input: p.inputPricePerMillion, output: p.outputPricePerMillion, effectiveFrom: p.effectiveFrom })),
          ),
        )
        .onConflictDoNothing();
      const cost = old.filter((p) => p.effectiveFrom.getTime() <= now).at(-1) ?? old[0]!;
      await tx.update(modelTargets).set({ costInput: cost.inputCostPerMillion, costOutput: cost.outputCostPerMillion }).where(eq(modelTargets.modelId, modelId));
      await tx.delete(legacyModelPrices).where(inArray(legacyModelPrices.id, old.map((p) => p.id)));
    });
  }
  if (modelIds.length > 0) logger.info('converted model prices from before routing v2', { models: modelIds.length });
}
