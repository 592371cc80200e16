import { randomUUID } from 'node:crypto';
import { adapterFor, BYOK_PROVIDERS, credentialLast4, DEFAULT_TIMEOUTS, providerInfo, urlRefusal, type Credential, type ProviderId } from '@tollgate/shared';
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { byokCredentials, modelByokTargets, models, type ByokCredential } from '../db/schema/index.ts';
import { NotFoundError, UnsupportedProtocolError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { credentialInput, defaultBaseUrl, openByokCredential, sealByokCredential } from './credentials.ts';
import { commitChange } from './unit-of-work.ts';
import { probeChat, type ProbeResult } from './upstream-probe.ts';
import { id as idInput, provider as providerInput, requiredText } from './validate.ts';

/**
 * Customers' own provider credentials (DESIGN.md, "BYOK"): one per org and provider, validated for
 * the provider, sealed bound to the org and credential id, shown only as their last 4 characters,
 * and published per (org, provider) so a data plane loads only the one a request needs.
 */
export interface ByokCredentialKey {
  orgId: string;
  provider: string;
}

function byokProvider(value: string): ProviderId {
  const provider = providerInput(value);
  if (!BYOK_PROVIDERS.includes(provider)) throw new ValidationError(`${provider} takes no BYOK credentials; the providers query lists those that do`, 'provider');
  return provider;
}

async function assertOrg(db: Db, orgId: string): Promise<string> {
  const org = await db.query.orgs.findFirst({ columns: { id: true }, where: { id: idInput(orgId, 'org') } });
  if (!org) throw new NotFoundError('no org with this id');
  return org.id;
}

async function findCredential(db: Db, key: ByokCredentialKey): Promise<ByokCredential> {
  const orgId = await assertOrg(db, key.orgId);
  const provider = providerInput(key.provider);
  const row = await db.query.byokCredentials.findFirst({ where: { orgId, provider } });
  if (!row) throw new NotFoundError(`the org has no ${provider} credential`);
  return row;
}

/**
 * A customer's own endpoint (an Azure resource) must be a public address: refused here when the
 * URL alone shows it is not, and at connect time on the resolved address in every case.
 */
function assertPublicEndpoint(ctx: ServiceContext, credential: Credential): void {
  if (credential.kind !== 'azure') return;
  const refused = urlRefusal(new URL(credential.endpoint), { allowPrivateNetwork: false, ownPorts: ctx.listenerPorts });
  if (refused) throw new ValidationError(`endpoint: ${refused.message}; it must be a public address`, 'credential.endpoint');
}

/** Creates the org's credential for the provider, or replaces it (keeping its id). */
export async function setByokCredential(ctx: ServiceContext, input: ByokCredentialKey & { credential: string }): Promise<ByokCredential> {
  const orgId = await assertOrg(ctx.db, input.orgId);
  const provider = byokProvider(input.provider);
  const credential = credentialInput(provider, input.credential);
  assertPublicEndpoint(ctx, credential);
  const last4 = credentialLast4(credential);
  const write = () =>
    commitChange(ctx, async (tx, publish) => {
      publish({ kind: 'byok', orgId, provider });
      const [existing] = await tx
        .select({ id: byokCredentials.id })
        .from(byokCredentials)
        .where(and(eq(byokCredentials.orgId, orgId), eq(byokCredentials.provider, provider)))
        .for('update');
      // The sealed value is bound to the row's id, so the id is known before sealing.
      const id = existing?.id ?? randomUUID();
      const credentialSealed = sealByokCredential(ctx.masterKey, orgId, id, credential);
      const [row] = existing
        ? await tx.update(byokCredentials).set({ credentialSealed, credentialLast4: last4 }).where(eq(byokCredentials.id, id)).returning()
        : await tx.insert(byokCredentials).values({ id, orgId, provider, credentialSealed, credentialLast4: last4 }).returning();
      return row!;
    });
  let row: ByokCredential;
  try {
    row = await write();
  } catch (error) {
    // Another request created it between our look and our insert: now it is a replacement.
    if (!isUniqueViolation(error)) throw error;
    row = await write();
  }
  ctx.logger.info('byok credential set', { orgId, provider, credentialId: row.id });
  return row;
}

export async function deleteByokCredential(ctx: ServiceContext, input: ByokCredentialKey): Promise<ByokCredential> {
  const row = await findCredential(ctx.db, input);
  const deleted = await commitChange(ctx, async (tx, publish) => {
    const [gone] = await tx.delete(byokCredentials).where(eq(byokCredentials.id, row.id)).returning();
    publish({ kind: 'byok', orgId: row.orgId, provider: row.provider });
    return gone;
  });
  if (!deleted) throw new NotFoundError(`the org has no ${row.provider} credential`);
  ctx.logger.info('byok credential deleted', { orgId: deleted.orgId, provider: deleted.provider, credentialId: deleted.id });
  return deleted;
}

/**
 * A minimal real call with the org's credential. Without an upstream model, the one the first
 * model (by name) with a BYOK target for the provider uses.
 */
export async function testByokCredential(ctx: ServiceContext, input: ByokCredentialKey & { upstreamModel: string | null }): Promise<ProbeResult> {
  const row = await findCredential(ctx.db, input);
  const { protocol } = providerInfo(row.provider);
  if (!adapterFor(protocol)) throw new UnsupportedProtocolError(protocol);
  let model = input.upstreamModel !== null ? requiredText(input.upstreamModel, 'upstreamModel') : null;
  if (model === null) {
    const [target] = await ctx.db
      .select({ upstreamModel: modelByokTargets.upstreamModel })
      .from(modelByokTargets)
      .innerJoin(models, eq(models.id, modelByokTargets.modelId))
      .where(eq(modelByokTargets.provider, row.provider))
      .orderBy(asc(models.name))
      .limit(1);
    if (!target) throw new ValidationError(`upstreamModel is required: no model has a BYOK target for ${row.provider} yet`, 'upstreamModel');
    model = target.upstreamModel;
  }
  const credential = openByokCredential(ctx.masterKeys.keys, row.orgId, row.id, row.credentialSealed);
  const baseUrl = ctx.providerBaseUrls?.[row.provider] ?? defaultBaseUrl(row.provider, credential);
  if (baseUrl === null) throw new ValidationError(`${row.provider} has no base URL to call`, 'provider');
  const result = await probeChat({
    provider: row.provider,
    baseUrl,
    credential,
    upstreamModel: model,
    extraHeaders: {},
    timeouts: DEFAULT_TIMEOUTS,
    // The customer's endpoint is public-only; the operator's override (an egress proxy) is the operator's.
    network: { allowPrivateNetwork: ctx.providerBaseUrls?.[row.provider] !== undefined, ownPorts: ctx.listenerPorts },
  });
  ctx.logger.info('byok credential tested', { orgId: row.orgId, provider: row.provider, ok: result.ok, status: result.status, latencyMs: result.latencyMs, error: result.error });
  return result;
}
