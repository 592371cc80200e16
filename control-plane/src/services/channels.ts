import { randomUUID } from 'node:crypto';
import { adapterFor, credentialLast4, DEFAULT_TIMEOUTS, encodeCredential, providerInfo, urlRefusal, type Credential, type ProviderId } from '@tollgate/shared';
import { asc, eq } from 'drizzle-orm';
import { isUniqueViolation, sqlState } from '../db/errors.ts';
import { models, modelTargets, providerChannels, type ProviderChannel } from '../db/schema/index.ts';
import { ConflictError, InUseError, NotFoundError, UnsupportedProtocolError, ValidationError } from '../errors.ts';
import {
  extraHeadersInput,
  maxConcurrencyInput,
  modelMapInput,
  retriesInput,
  timeoutsInput,
  type TimeoutsInput,
} from './channel-settings.ts';
import type { ServiceContext } from './context.ts';
import { credentialInput, defaultBaseUrl, openChannelCredential, sealChannelCredential } from './credentials.ts';
import { commitChange } from './unit-of-work.ts';
import { probeChat, type ProbeResult } from './upstream-probe.ts';
import { baseUrl as baseUrlInput, id as idInput, operatorTier, provider as providerInput, requiredText } from './validate.ts';

/** Settings every channel has; on update, null or absent keeps the current value (baseUrl: null resets it). */
export interface ChannelSettingsInput {
  baseUrl?: string | null | undefined;
  enabled?: boolean | null | undefined;
  timeouts?: TimeoutsInput | null | undefined;
  retries?: number | null | undefined;
  modelMap?: readonly { upstreamModel: string; channelModel: string }[] | null | undefined;
  extraHeaders?: readonly { name: string; value: string }[] | null | undefined;
  maxConcurrency?: number | null | undefined;
  allowPrivateNetwork?: boolean | null | undefined;
}

export interface CreateChannelInput extends ChannelSettingsInput {
  name: string;
  provider: string;
  tier: string;
  credential: string;
}

export interface UpdateChannelInput extends ChannelSettingsInput {
  id: string;
  name?: string | null | undefined;
  provider?: string | null | undefined;
  tier?: string | null | undefined;
  /** A replacement credential; absent keeps the current one. */
  credential?: string | null | undefined;
}

const CHANNEL_NAME_MAX = 100;

/** The base URL a channel uses: the given one, else the provider's default; `custom` has none. */
function resolveBaseUrl(provider: ProviderId, credential: Credential, given: string | null): string {
  if (given !== null) return baseUrlInput(given);
  const fallback = defaultBaseUrl(provider, credential);
  if (fallback === null) throw new ValidationError('baseUrl is required for a custom provider', 'baseUrl');
  return fallback;
}

/**
 * Refuses a base URL no channel could ever use: one that points at Tollgate's own listeners (the
 * channel would call itself), or at a metadata, unspecified or reserved address. What only the
 * resolved address can tell, and private addresses without `allowPrivateNetwork`, the connect-time
 * check refuses (data plane and testChannel alike).
 */
function assertReachable(ctx: ServiceContext, baseUrl: string): void {
  const refused = urlRefusal(new URL(baseUrl), { allowPrivateNetwork: true, ownPorts: ctx.listenerPorts });
  if (refused) throw new ValidationError(`baseUrl: ${refused.message}; a channel must point at a provider`, 'baseUrl');
}

function settingsOf(input: ChannelSettingsInput, current: ProviderChannel | null) {
  const timeouts = timeoutsInput(
    input.timeouts,
    current
      ? { connectMs: current.connectTimeoutMs, firstByteMs: current.firstByteTimeoutMs, idleMs: current.idleTimeoutMs, totalMs: current.totalTimeoutMs }
      : DEFAULT_TIMEOUTS,
  );
  return {
    ...(input.enabled != null ? { enabled: input.enabled } : {}),
    connectTimeoutMs: timeouts.connectMs,
    firstByteTimeoutMs: timeouts.firstByteMs,
    idleTimeoutMs: timeouts.idleMs,
    totalTimeoutMs: timeouts.totalMs,
    ...(input.retries != null ? { retries: retriesInput(input.retries) } : {}),
    ...(input.modelMap != null ? { modelMap: modelMapInput(input.modelMap) } : {}),
    ...(input.extraHeaders != null ? { extraHeaders: extraHeadersInput(input.extraHeaders) } : {}),
    ...(input.maxConcurrency != null ? { maxConcurrency: maxConcurrencyInput(input.maxConcurrency) } : {}),
    ...(input.allowPrivateNetwork != null ? { allowPrivateNetwork: input.allowPrivateNetwork } : {}),
  };
}

function taken(error: unknown, name: string): never {
  if (isUniqueViolation(error)) throw new ConflictError(`a channel named "${name}" already exists`);
  throw error;
}

export async function createChannel(ctx: ServiceContext, input: CreateChannelInput): Promise<ProviderChannel> {
  const name = requiredText(input.name, 'name', CHANNEL_NAME_MAX);
  const provider = providerInput(input.provider);
  const tier = operatorTier(input.tier);
  const credential = credentialInput(provider, input.credential);
  const baseUrl = resolveBaseUrl(provider, credential, input.baseUrl ?? null);
  assertReachable(ctx, baseUrl);
  const settings = settingsOf(input, null);
  // The id is chosen before the insert because the sealed credential is bound to it.
  const id = randomUUID();
  let channel: ProviderChannel;
  try {
    channel = await commitChange(ctx, async (tx, publish) => {
      publish({ kind: 'routes' });
      const [row] = await tx
      .insert(providerChannels)
      .values({
        id,
        name,
        provider,
        baseUrl,
        tier,
        credentialSealed: sealChannelCredential(ctx.masterKey, id, credential),
        credentialLast4: credentialLast4(credential),
        ...settings,
      })
      .returning();
      return row!;
    });
  } catch (error) {
    taken(error, name);
  }
  return channel;
}

export async function findChannel(ctx: ServiceContext, id: string): Promise<ProviderChannel> {
  const channel = await ctx.db.query.providerChannels.findFirst({ where: { id: idInput(id, 'channel') } });
  if (!channel) throw new NotFoundError('no channel with this id');
  return channel;
}

/** The credential as a user would have typed it, to validate it again for another provider. */
function credentialText(credential: Credential): string {
  return credential.kind === 'api_key' ? credential.apiKey : encodeCredential(credential);
}

export async function updateChannel(ctx: ServiceContext, input: UpdateChannelInput): Promise<ProviderChannel> {
  const current = await findChannel(ctx, input.id);
  const name = input.name != null ? requiredText(input.name, 'name', CHANNEL_NAME_MAX) : current.name;
  const provider = input.provider != null ? providerInput(input.provider) : current.provider;
  const providerChanged = provider !== current.provider;
  const tier = input.tier != null ? operatorTier(input.tier) : current.tier;
  const stored = openChannelCredential(ctx.masterKeys.keys, current.id, current.credentialSealed);
  // A replacement, or for another provider the stored credential validated again; null: unchanged.
  let credential: Credential | null = null;
  if (input.credential != null) {
    credential = credentialInput(provider, input.credential);
  } else if (providerChanged) {
    try {
      credential = credentialInput(provider, credentialText(stored));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ValidationError(`the stored credential does not fit provider ${provider} (${error.message}); give a new credential`, 'credential');
    }
  }
  let baseUrl = current.baseUrl;
  if (input.baseUrl !== undefined) {
    baseUrl = resolveBaseUrl(provider, credential ?? stored, input.baseUrl);
  } else if (credential && (providerChanged || current.baseUrl === defaultBaseUrl(current.provider, stored))) {
    // Another provider means its API; a new credential moves a default base URL along (a Bedrock
    // region), while one the operator set for this provider (a proxy, a VPC endpoint) stays.
    baseUrl = defaultBaseUrl(provider, credential) ?? current.baseUrl;
  }
  assertReachable(ctx, baseUrl);
  const settings = settingsOf(input, current);
  let channel: ProviderChannel;
  try {
    channel = await commitChange(ctx, async (tx, publish) => {
      publish({ kind: 'routes' });
      const [row] = await tx
      .update(providerChannels)
      .set({
        name,
        provider,
        tier,
        baseUrl,
        ...settings,
        ...(credential
          ? { credentialSealed: sealChannelCredential(ctx.masterKey, current.id, credential), credentialLast4: credentialLast4(credential) }
          : {}),
      })
      .where(eq(providerChannels.id, current.id))
      .returning();
      return row!;
    });
  } catch (error) {
    taken(error, name);
  }
  if (!channel) throw new NotFoundError('no channel with this id');
  return channel;
}

export async function setChannelEnabled(ctx: ServiceContext, id: string, enabled: boolean): Promise<ProviderChannel> {
  const channel = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .update(providerChannels)
      .set({ enabled })
      .where(eq(providerChannels.id, idInput(id, 'channel')))
      .returning();
    publish({ kind: 'routes' });
    return row;
  });
  if (!channel) throw new NotFoundError('no channel with this id');
  return channel;
}

async function modelsTargeting(ctx: ServiceContext, channelId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectDistinct({ name: models.name })
    .from(modelTargets)
    .innerJoin(models, eq(models.id, modelTargets.modelId))
    .where(eq(modelTargets.channelId, channelId))
    .orderBy(asc(models.name));
  return rows.map((r) => r.name);
}

function inUse(name: string, usedBy: string[]): InUseError {
  return new InUseError(
    `channel "${name}" is still a target of ${usedBy.map((m) => `"${m}"`).join(', ')}: remove those targets first, or disable the channel instead`,
    usedBy,
  );
}

/** Deletes a channel no model targets; one still in use is refused, naming the models. */
export async function deleteChannel(ctx: ServiceContext, id: string): Promise<{ id: string }> {
  const channel = await findChannel(ctx, id);
  const usedBy = await modelsTargeting(ctx, channel.id);
  if (usedBy.length > 0) throw inUse(channel.name, usedBy);
  try {
    await commitChange(ctx, async (tx, publish) => {
      await tx.delete(providerChannels).where(eq(providerChannels.id, channel.id));
      publish({ kind: 'routes' });
    });
  } catch (error) {
    // A target added since the check: the foreign key refuses the delete.
    if (sqlState(error) === '23503') throw inUse(channel.name, await modelsTargeting(ctx, channel.id));
    throw error;
  }
  return { id: channel.id };
}

/**
 * A minimal real call through the channel (disabled ones too, so they can be tried before they
 * take traffic). Without an upstream model, the one its first target uses.
 */
export async function testChannel(ctx: ServiceContext, id: string, upstreamModel: string | null): Promise<ProbeResult> {
  const channel = await findChannel(ctx, id);
  const { protocol } = providerInfo(channel.provider);
  if (!adapterFor(protocol)) throw new UnsupportedProtocolError(protocol);
  let model = upstreamModel !== null ? requiredText(upstreamModel, 'upstreamModel') : null;
  if (model === null) {
    const target = await ctx.db.query.modelTargets.findFirst({ where: { channelId: channel.id }, orderBy: { priority: 'asc' } });
    if (!target) throw new ValidationError('upstreamModel is required: no model targets this channel yet', 'upstreamModel');
    model = target.upstreamModel;
  }
  const result = await probeChat({
    provider: channel.provider,
    baseUrl: channel.baseUrl,
    credential: openChannelCredential(ctx.masterKeys.keys, channel.id, channel.credentialSealed),
    upstreamModel: channel.modelMap[model] ?? model,
    extraHeaders: channel.extraHeaders,
    timeouts: { connectMs: channel.connectTimeoutMs, firstByteMs: channel.firstByteTimeoutMs, idleMs: channel.idleTimeoutMs, totalMs: channel.totalTimeoutMs },
    network: { allowPrivateNetwork: channel.allowPrivateNetwork, ownPorts: ctx.listenerPorts },
  });
  ctx.logger.info('channel tested', { channelId: channel.id, ok: result.ok, status: result.status, latencyMs: result.latencyMs, error: result.error });
  return result;
}
