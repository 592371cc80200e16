import { formatCredits, parseCredits, type Tier } from '@tollgate/shared';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Db } from '../db/connect.ts';
import { ValidationError } from '../errors.ts';
import { createApiKey, updateApiKey } from './api-keys.ts';
import { creditsFromDoc, limitsDoc, limitsFromDoc, metadataFromDoc, sameLimits, sameMetadata, type LimitsDoc } from './declarative-limits.ts';
import { setOrgAllowedTiers } from './access.ts';
import { createChannel, updateChannel } from './channels.ts';
import type { ServiceContext } from './context.ts';
import { openChannelCredential } from './credentials.ts';
import { addModelTarget, updateModelTarget } from './model-targets.ts';
import { createModel, setModelByokTarget, setModelPrice, updateModel, type TargetInput } from './models.ts';
import { createOrg, updateOrg } from './orgs.ts';
import { createPlan, setOrgPlan, updatePlan, type LaneInput } from './plans.ts';
import { costOf, listOf, type PriceFields } from './prices.ts';
import { applyMarkups, exportMarkups, type TierMarkups } from './declarative-markups.ts';
import { getSettings, setByokFeeBps } from './settings.ts';
import { capabilityList } from './validate.ts';
import { encodeCredential } from '@tollgate/shared';

/**
 * `tollgate apply -f tollgate.yaml` and the applyConfig mutation: the whole catalogue and the orgs
 * as one document, applied idempotently. Objects are matched by name (channels, models, plans, an
 * org's keys) or slug (orgs); what differs is updated, what is missing created, nothing deleted.
 * Prices are effective-dated, so a changed price is a new price from now on. Applying the same
 * document twice changes nothing the second time. `exportConfig` prints the same format with every
 * credential masked (its last 4 characters), so an export applied back changes nothing.
 */
type Price = { input: string; output: string; cachedInput?: string; cacheWrite?: string; reasoning?: string; images?: { size: string; quality: string; price: string }[] };

export interface ConfigDocument {
  version: 1;
  settings?: { byokFeeBps?: number };
  channels?: {
    name: string;
    provider: string;
    tier: 'cheap' | 'resale';
    /** The credential; an export shows `****<last 4>`, which apply reads as "keep the stored one". */
    credential?: string;
    baseUrl?: string;
    enabled?: boolean;
    timeouts?: { connectMs?: number; firstByteMs?: number; idleMs?: number; totalMs?: number };
    retries?: number;
    maxConcurrency?: number;
    modelMap?: Record<string, string>;
    extraHeaders?: Record<string, string>;
    allowPrivateNetwork?: boolean;
  }[];
  models?: {
    name: string;
    maxOutputTokens?: number;
    contextWindow?: number | null;
    capabilities?: string[];
    aliases?: string[];
    prices?: Partial<Record<'cheap' | 'resale', Price>>;
    /** Sell at each target's cost × basis points, per tier, for every org (12000 = cost × 1.2). */
    markups?: TierMarkups;
    /** Per org slug: its own markups, overriding the model's and its prices. */
    orgMarkups?: Record<string, TierMarkups>;
    targets?: { channel: string; upstreamModel: string; priority?: number; weight?: number; cost: Price }[];
    byokTargets?: { provider: string; upstreamModel: string; listPrice: Price }[];
  }[];
  plans?: {
    name: string;
    window: 'day' | 'week' | 'month';
    premiumAllowanceTokens: number;
    concurrency?: number | null;
    continuationAllowed: boolean;
    fallbackAllowed: boolean;
    premiumLane: LaneInput;
    continuationLane?: LaneInput | null;
    fallbackLane?: LaneInput | null;
  }[];
  orgs?: {
    slug: string;
    name: string;
    defaultTier?: Tier;
    allowedTiers?: Tier[] | null;
    plan?: string | null;
    /** The org's ceilings over all its keys (the whole set: a field left out has no limit). */
    limits?: LimitsDoc | null;
    /** Credits the balance may go below zero. */
    overdraft?: string;
    lowBalanceThreshold?: string | null;
    keys?: { name: string; allowedTiers?: Tier[] | null; expiresAt?: string | null; limits?: LimitsDoc | null; metadata?: Record<string, string> | null }[];
  }[];
}

export interface Change {
  action: 'create' | 'update';
  kind: 'settings' | 'channel' | 'model' | 'price' | 'markup' | 'target' | 'byokTarget' | 'plan' | 'org' | 'key';
  name: string;
  /** The fields that differ (names only: values may be secret). */
  fields: string[];
}

export interface ApplyResult {
  changes: Change[];
  /** Secrets of keys created by this apply, shown once. */
  createdKeys: { org: string; name: string; secret: string }[];
  dryRun: boolean;
}

const MASK = /^\*{4}.{0,4}$/;

export function parseConfigDocument(text: string): ConfigDocument {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ValidationError(`the document is not valid YAML: ${(error as Error).message.split('\n')[0]}`, 'document');
  }
  if (!value || typeof value !== 'object' || (value as { version?: unknown }).version !== 1) {
    throw new ValidationError('the document must be a mapping with "version: 1"', 'document');
  }
  for (const section of ['channels', 'models', 'plans', 'orgs'] as const) {
    const list = (value as Record<string, unknown>)[section];
    if (list !== undefined && !Array.isArray(list)) throw new ValidationError(`${section} must be a list`, section);
  }
  return value as ConfigDocument;
}

function priceText(p: PriceFields): Price {
  const out: Price = { input: formatCredits(p.input), output: formatCredits(p.output) };
  if (p.cachedInput !== null) out.cachedInput = formatCredits(p.cachedInput);
  if (p.cacheWrite !== null) out.cacheWrite = formatCredits(p.cacheWrite);
  if (p.reasoning !== null) out.reasoning = formatCredits(p.reasoning);
  if (p.imagePrices !== null) out.images = p.imagePrices.map((i) => ({ size: i.size, quality: i.quality, price: formatCredits(i.price) }));
  return out;
}

function priceInput(p: Price, field: string) {
  try {
    return {
      input: parseCredits(String(p.input)),
      output: parseCredits(String(p.output)),
      cachedInput: p.cachedInput != null ? parseCredits(String(p.cachedInput)) : null,
      cacheWrite: p.cacheWrite != null ? parseCredits(String(p.cacheWrite)) : null,
      reasoning: p.reasoning != null ? parseCredits(String(p.reasoning)) : null,
      imagePrices: p.images != null ? p.images.map((i) => ({ size: String(i.size), quality: String(i.quality), price: parseCredits(String(i.price)) })) : null,
    };
  } catch (error) {
    throw new ValidationError(`${field}: ${(error as Error).message}`, field);
  }
}

function samePrice(a: PriceFields, b: ReturnType<typeof priceInput>): boolean {
  const images = (list: PriceFields['imagePrices']): string => JSON.stringify((list ?? []).map((i) => [i.size, i.quality, i.price.toString()]));
  return a.input === b.input && a.output === b.output && a.cachedInput === b.cachedInput && a.cacheWrite === b.cacheWrite && a.reasoning === b.reasoning && images(a.imagePrices) === images(b.imagePrices);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The fields of `wanted` (those given) that differ from `current`. */
function diff(current: Record<string, unknown>, wanted: Record<string, unknown>): string[] {
  return Object.entries(wanted)
    .filter(([k, v]) => v !== undefined && !same(current[k], v))
    .map(([k]) => k);
}

export async function applyConfig(ctx: ServiceContext, doc: ConfigDocument, options: { dryRun: boolean; confirm?: boolean; createdBy?: string | null }): Promise<ApplyResult> {
  const changes: Change[] = [];
  const createdKeys: ApplyResult['createdKeys'] = [];
  const act = async (change: Change, run: () => Promise<unknown>): Promise<void> => {
    changes.push(change);
    if (!options.dryRun) await run();
  };
  const db: Db = ctx.db;

  if (doc.settings?.byokFeeBps !== undefined) {
    const current = await getSettings(db);
    if (current.byokFeeBps !== doc.settings.byokFeeBps) await act({ action: 'update', kind: 'settings', name: 'settings', fields: ['byokFeeBps'] }, () => setByokFeeBps(ctx, doc.settings!.byokFeeBps!));
  }

  for (const [i, c] of (doc.channels ?? []).entries()) {
    const existing = await db.query.providerChannels.findFirst({ where: { name: c.name } });
    const credential = c.credential !== undefined && !MASK.test(c.credential) ? c.credential : undefined;
    const settings = {
      baseUrl: c.baseUrl, enabled: c.enabled, retries: c.retries, maxConcurrency: c.maxConcurrency, allowPrivateNetwork: c.allowPrivateNetwork,
      modelMap: c.modelMap && Object.entries(c.modelMap).map(([upstreamModel, channelModel]) => ({ upstreamModel, channelModel })),
      extraHeaders: c.extraHeaders && Object.entries(c.extraHeaders).map(([name, value]) => ({ name, value })),
      timeouts: c.timeouts,
    };
    if (!existing) {
      if (!credential) throw new ValidationError(`channels[${i}] "${c.name}" is new and needs a credential`, `channels[${i}].credential`);
      await act({ action: 'create', kind: 'channel', name: c.name, fields: [] }, () => createChannel(ctx, { name: c.name, provider: c.provider, tier: c.tier, credential, ...settings }));
      continue;
    }
    const current = {
      provider: existing.provider, tier: existing.tier, baseUrl: existing.baseUrl, enabled: existing.enabled, retries: existing.retries,
      maxConcurrency: existing.maxConcurrency, modelMap: existing.modelMap, extraHeaders: existing.extraHeaders, allowPrivateNetwork: existing.allowPrivateNetwork,
      timeouts: { connectMs: existing.connectTimeoutMs, firstByteMs: existing.firstByteTimeoutMs, idleMs: existing.idleTimeoutMs, totalMs: existing.totalTimeoutMs },
    };
    const wanted = {
      provider: c.provider, tier: c.tier, baseUrl: c.baseUrl?.replace(/\/+$/, ''), enabled: c.enabled, retries: c.retries, maxConcurrency: c.maxConcurrency,
      modelMap: c.modelMap, extraHeaders: c.extraHeaders, allowPrivateNetwork: c.allowPrivateNetwork, timeouts: c.timeouts ? { ...current.timeouts, ...c.timeouts } : undefined,
    };
    const fields = diff(current, wanted);
    if (credential !== undefined) {
      const stored = openChannelCredential(ctx.masterKeys.keys, existing.id, existing.credentialSealed);
      const storedText = stored.kind === 'api_key' ? stored.apiKey : encodeCredential(stored);
      if (storedText !== credential.trim()) fields.push('credential');
    }
    if (fields.length > 0) {
      await act({ action: 'update', kind: 'channel', name: c.name, fields }, () =>
        updateChannel(ctx, { id: existing.id, ...Object.fromEntries(fields.filter((f) => f !== 'credential').map((f) => [f, (settings as Record<string, unknown>)[f] ?? (wanted as Record<string, unknown>)[f]])), ...(fields.includes('credential') ? { credential } : {}) }),
      );
    }
  }

  for (const [i, m] of (doc.models ?? []).entries()) {
    const channelId = async (name: string, field: string): Promise<string> => {
      const channel = await db.query.providerChannels.findFirst({ columns: { id: true }, where: { name } });
      if (!channel) {
        if (options.dryRun && (doc.channels ?? []).some((c) => c.name === name)) return `(new channel ${name})`;
        throw new ValidationError(`${field}: no channel named "${name}"`, field);
      }
      return channel.id;
    };
    const existing = await db.query.models.findFirst({
      where: { name: m.name },
      with: { targets: true, byokTargets: true, sellPrices: { where: { effectiveFrom: { lte: new Date() } }, orderBy: { effectiveFrom: 'desc' } } },
    });
    if (!existing) {
      const targets: TargetInput[] = [];
      for (const [j, t] of (m.targets ?? []).entries()) targets.push({ channelId: await channelId(t.channel, `models[${i}].targets[${j}].channel`), upstreamModel: t.upstreamModel, priority: t.priority, weight: t.weight, cost: priceInput(t.cost, `models[${i}].targets[${j}].cost`) });
      await act({ action: 'create', kind: 'model', name: m.name, fields: [] }, () =>
        createModel(ctx, {
          name: m.name, maxOutputTokens: m.maxOutputTokens, contextWindow: m.contextWindow, capabilities: m.capabilities, aliases: m.aliases,
          prices: Object.entries(m.prices ?? {}).map(([tier, price]) => ({ tier, price: priceInput(price!, `models[${i}].prices.${tier}`) })),
          targets,
          byokTargets: (m.byokTargets ?? []).map((b, j) => ({ provider: b.provider, upstreamModel: b.upstreamModel, listPrice: priceInput(b.listPrice, `models[${i}].byokTargets[${j}].listPrice`) })),
        }),
      );
      continue;
    }
    const wantedCapabilities = m.capabilities && capabilityList(m.capabilities, `models[${i}].capabilities`);
    const fields = diff(
      { maxOutputTokens: existing.maxOutputTokens, contextWindow: existing.contextWindow, capabilities: existing.capabilities, aliases: existing.aliases },
      { maxOutputTokens: m.maxOutputTokens, contextWindow: m.contextWindow, capabilities: wantedCapabilities, aliases: m.aliases },
    );
    if (fields.length > 0) {
      await act({ action: 'update', kind: 'model', name: m.name, fields }, () =>
        updateModel(ctx, { id: existing.id, maxOutputTokens: m.maxOutputTokens, contextWindow: m.contextWindow, capabilities: m.capabilities, aliases: m.aliases }),
      );
    }
    for (const [tier, price] of Object.entries(m.prices ?? {})) {
      const wanted = priceInput(price!, `models[${i}].prices.${tier}`);
      const current = existing.sellPrices.find((p) => p.tier === tier);
      if (!current || !samePrice(current, wanted)) {
        await act({ action: current ? 'update' : 'create', kind: 'price', name: `${m.name}/${tier}`, fields: current ? ['price'] : [] }, () =>
          setModelPrice(ctx, { modelId: existing.id, tier, price: wanted, confirm: options.confirm ?? false }),
        );
      }
    }
    for (const [j, t] of (m.targets ?? []).entries()) {
      const id = await channelId(t.channel, `models[${i}].targets[${j}].channel`);
      const cost = priceInput(t.cost, `models[${i}].targets[${j}].cost`);
      const current = existing.targets.find((x) => x.channelId === id && x.upstreamModel === t.upstreamModel);
      const name = `${m.name} -> ${t.channel}/${t.upstreamModel}`;
      if (!current) {
        await act({ action: 'create', kind: 'target', name, fields: [] }, () => addModelTarget(ctx, { modelId: existing.id, channelId: id, upstreamModel: t.upstreamModel, priority: t.priority, weight: t.weight, cost }));
        continue;
      }
      const tf = [...diff({ priority: current.priority, weight: current.weight }, { priority: t.priority, weight: t.weight }), ...(samePrice(costOf(current), cost) ? [] : ['cost'])];
      if (tf.length > 0) await act({ action: 'update', kind: 'target', name, fields: tf }, () => updateModelTarget(ctx, { id: current.id, priority: t.priority, weight: t.weight, cost }));
    }
    for (const [j, b] of (m.byokTargets ?? []).entries()) {
      const listPrice = priceInput(b.listPrice, `models[${i}].byokTargets[${j}].listPrice`);
      const current = existing.byokTargets.find((x) => x.provider === b.provider);
      if (!current || current.upstreamModel !== b.upstreamModel || !samePrice(listOf(current), listPrice)) {
        await act({ action: current ? 'update' : 'create', kind: 'byokTarget', name: `${m.name}/${b.provider}`, fields: current ? ['upstreamModel', 'listPrice'] : [] }, () =>
          setModelByokTarget(ctx, { modelId: existing.id, provider: b.provider, upstreamModel: b.upstreamModel, listPrice }),
        );
      }
    }
  }

  for (const p of doc.plans ?? []) {
    const existing = await db.query.plans.findFirst({ where: { name: p.name }, with: { premiumModel: true, continuationModel: true, fallbackModel: true } });
    if (!existing) {
      await act({ action: 'create', kind: 'plan', name: p.name, fields: [] }, () => createPlan(ctx, p));
      continue;
    }
    const lane = (model: { name: string } | null, tier: string | null) => (model && tier ? { model: model.name, tier } : null);
    const current = {
      window: existing.window, premiumAllowanceTokens: existing.premiumAllowanceTokens, concurrency: existing.concurrency,
      continuationAllowed: existing.continuationAllowed, fallbackAllowed: existing.fallbackAllowed,
      premiumLane: lane(existing.premiumModel, existing.premiumTier), continuationLane: lane(existing.continuationModel, existing.continuationTier),
      fallbackLane: lane(existing.fallbackModel, existing.fallbackTier),
    };
    const fields = diff(current, { ...p, name: undefined });
    if (fields.length > 0) await act({ action: 'update', kind: 'plan', name: p.name, fields }, () => updatePlan(ctx, { id: existing.id, ...p }));
  }

  for (const o of doc.orgs ?? []) {
    let org = await db.query.orgs.findFirst({ where: { slug: o.slug } });
    // A new org's tiers and plan are part of its creation, not changes of their own.
    const orgAct = !org ? async (_change: Change, run: () => Promise<unknown>) => void (await run()) : act;
    if (!org) {
      changes.push({ action: 'create', kind: 'org', name: o.slug, fields: [] });
      if (options.dryRun) {
        for (const k of o.keys ?? []) changes.push({ action: 'create', kind: 'key', name: `${o.slug}/${k.name}`, fields: [] });
        continue;
      }
      org = (await createOrg(ctx, { name: o.name, slug: o.slug, defaultTier: o.defaultTier }, null)).org;
    } else {
      const fields = diff({ name: org.name, defaultTier: org.defaultTier }, { name: o.name, defaultTier: o.defaultTier });
      if (fields.length > 0) await act({ action: 'update', kind: 'org', name: o.slug, fields }, () => updateOrg(ctx, { id: org!.id, name: o.name, defaultTier: o.defaultTier }));
    }
    const target = org;
    if (o.allowedTiers !== undefined && !same(target.allowedTiers, o.allowedTiers)) {
      await orgAct({ action: 'update', kind: 'org', name: o.slug, fields: ['allowedTiers'] }, () => setOrgAllowedTiers(ctx, target.id, o.allowedTiers ?? null));
    }
    if (o.plan !== undefined) {
      const plan = o.plan === null ? null : await db.query.plans.findFirst({ columns: { id: true }, where: { name: o.plan } });
      if (o.plan !== null && !plan && !options.dryRun) throw new ValidationError(`org ${o.slug}: no plan named "${o.plan}"`, 'plan');
      if ((plan?.id ?? null) !== target.planId) await orgAct({ action: 'update', kind: 'org', name: o.slug, fields: ['plan'] }, () => setOrgPlan(ctx, target.id, plan?.id ?? null));
    }
    const money: { fields: string[]; input: Parameters<typeof updateOrg>[1] } = { fields: [], input: { id: target.id } };
    if (o.limits !== undefined && !sameLimits(target, o.limits, `orgs.${o.slug}.limits`)) {
      money.fields.push('limits');
      money.input.limits = limitsFromDoc(o.limits, `orgs.${o.slug}.limits`);
    }
    if (o.overdraft !== undefined && (creditsFromDoc(o.overdraft, `orgs.${o.slug}.overdraft`) ?? 0n) !== target.overdraft) {
      money.fields.push('overdraft');
      money.input.overdraft = creditsFromDoc(o.overdraft, `orgs.${o.slug}.overdraft`) ?? 0n;
    }
    if (o.lowBalanceThreshold !== undefined && creditsFromDoc(o.lowBalanceThreshold, `orgs.${o.slug}.lowBalanceThreshold`) !== target.lowBalanceThreshold) {
      money.fields.push('lowBalanceThreshold');
      money.input.lowBalanceThreshold = creditsFromDoc(o.lowBalanceThreshold, `orgs.${o.slug}.lowBalanceThreshold`);
    }
    if (money.fields.length > 0) await orgAct({ action: 'update', kind: 'org', name: o.slug, fields: money.fields }, () => updateOrg(ctx, money.input));
    for (const k of o.keys ?? []) {
      const existingKey = await db.query.apiKeys.findFirst({ where: { orgId: target.id, name: k.name } });
      const expiresAt = k.expiresAt ? new Date(k.expiresAt) : k.expiresAt === null ? null : undefined;
      if (!existingKey) {
        await act({ action: 'create', kind: 'key', name: `${o.slug}/${k.name}`, fields: [] }, async () => {
          // Configuration's keys are the org's, even when the operator applying it is a member.
          const created = await createApiKey(
            ctx,
            {
              orgId: target.id, name: k.name, allowedTiers: k.allowedTiers, expiresAt, serviceKey: true,
              ...(k.limits !== undefined ? { limits: limitsFromDoc(k.limits, `${o.slug}/${k.name}.limits`) } : {}),
              ...(k.metadata !== undefined ? { metadata: metadataFromDoc(k.metadata, `${o.slug}/${k.name}.metadata`) } : {}),
            },
            options.createdBy ?? null,
          );
          createdKeys.push({ org: o.slug, name: k.name, secret: created.secret });
        });
        continue;
      }
      const fields = diff(
        { allowedTiers: existingKey.allowedTiers, expiresAt: existingKey.expiresAt?.toISOString() ?? null },
        { allowedTiers: k.allowedTiers, expiresAt: expiresAt === undefined ? undefined : (expiresAt?.toISOString() ?? null) },
      );
      const limitsChanged = k.limits !== undefined && !sameLimits(existingKey, k.limits, `${o.slug}/${k.name}.limits`);
      const metadataChanged = k.metadata !== undefined && !sameMetadata(existingKey.metadata, k.metadata, `${o.slug}/${k.name}.metadata`);
      if (limitsChanged) fields.push('limits');
      if (metadataChanged) fields.push('metadata');
      if (fields.length > 0) {
        await act({ action: 'update', kind: 'key', name: `${o.slug}/${k.name}`, fields }, () =>
          updateApiKey(ctx, {
            id: existingKey.id, allowedTiers: k.allowedTiers, expiresAt,
            ...(limitsChanged ? { limits: limitsFromDoc(k.limits!, `${o.slug}/${k.name}.limits`) } : {}),
            ...(metadataChanged ? { metadata: metadataFromDoc(k.metadata!, `${o.slug}/${k.name}.metadata`) } : {}),
          }),
        );
      }
    }
  }
  await applyMarkups(ctx, doc, act, options);
  return { changes, createdKeys, dryRun: options.dryRun };
}

/** The current state as a document `applyConfig` takes; credentials masked to their last 4 characters. */
export async function exportConfig(db: Db): Promise<ConfigDocument> {
  const settings = await getSettings(db);
  const channels = await db.query.providerChannels.findMany({ orderBy: { name: 'asc' } });
  const channelName = new Map(channels.map((c) => [c.id, c.name]));
  const now = new Date();
  const models = await db.query.models.findMany({
    orderBy: { name: 'asc' },
    with: {
      targets: { orderBy: { priority: 'asc', id: 'asc' } }, byokTargets: { orderBy: { provider: 'asc' } },
      sellPrices: { where: { effectiveFrom: { lte: now } }, orderBy: { effectiveFrom: 'desc' } }, markups: { orderBy: { effectiveFrom: 'desc' } },
    },
  });
  const plans = await db.query.plans.findMany({ orderBy: { name: 'asc' }, with: { premiumModel: true, continuationModel: true, fallbackModel: true } });
  const orgs = await db.query.orgs.findMany({ orderBy: { createdAt: 'asc' }, with: { plan: true, apiKeys: { where: { status: { ne: 'revoked' } }, orderBy: { createdAt: 'asc' } } } });
  const slugs = new Map(orgs.map((o) => [o.id, o.slug ?? o.id]));
  const lane = (model: { name: string } | null, tier: Tier | null) => (model && tier ? { model: model.name, tier } : null);
  return {
    version: 1,
    settings: { byokFeeBps: settings.byokFeeBps },
    channels: channels.map((c) => ({
      name: c.name, provider: c.provider, tier: c.tier, credential: `****${c.credentialLast4}`, baseUrl: c.baseUrl, enabled: c.enabled,
      timeouts: { connectMs: c.connectTimeoutMs, firstByteMs: c.firstByteTimeoutMs, idleMs: c.idleTimeoutMs, totalMs: c.totalTimeoutMs },
      retries: c.retries, maxConcurrency: c.maxConcurrency, modelMap: c.modelMap, extraHeaders: c.extraHeaders, allowPrivateNetwork: c.allowPrivateNetwork,
    })),
    models: models.map((m) => {
      const seen = new Set<string>();
      const prices: Partial<Record<'cheap' | 'resale', Price>> = {};
      for (const p of m.sellPrices) if (!seen.has(p.tier) && seen.add(p.tier)) prices[p.tier] = priceText(p);
      return {
        name: m.name, maxOutputTokens: m.maxOutputTokens, contextWindow: m.contextWindow, capabilities: m.capabilities, aliases: m.aliases, prices, ...exportMarkups(m.markups, slugs),
        targets: m.targets.map((t) => ({ channel: channelName.get(t.channelId)!, upstreamModel: t.upstreamModel, priority: t.priority, weight: t.weight, cost: priceText(costOf(t)) })),
        byokTargets: m.byokTargets.map((b) => ({ provider: b.provider, upstreamModel: b.upstreamModel, listPrice: priceText(listOf(b)) })),
      };
    }),
    plans: plans.map((p) => ({
      name: p.name, window: p.window, premiumAllowanceTokens: p.premiumAllowanceTokens, concurrency: p.concurrency,
      continuationAllowed: p.continuationAllowed, fallbackAllowed: p.fallbackAllowed,
      premiumLane: lane(p.premiumModel, p.premiumTier)!, continuationLane: lane(p.continuationModel, p.continuationTier), fallbackLane: lane(p.fallbackModel, p.fallbackTier),
    })),
    orgs: orgs.map((o) => ({
      slug: o.slug ?? o.id, name: o.name, defaultTier: o.defaultTier, allowedTiers: o.allowedTiers, plan: o.plan?.name ?? null,
      ...optional('limits', limitsDoc(o)),
      ...(o.overdraft !== 0n ? { overdraft: formatCredits(o.overdraft) } : {}),
      ...optional('lowBalanceThreshold', o.lowBalanceThreshold === null ? null : formatCredits(o.lowBalanceThreshold)),
      keys: o.apiKeys.map((k) => ({
        name: k.name, allowedTiers: k.allowedTiers, expiresAt: k.expiresAt?.toISOString() ?? null,
        ...optional('limits', limitsDoc(k)), ...optional('metadata', k.metadata),
      })),
    })),
  };
}

/** `{ name: value }` when there is a value, else nothing (exports leave out what is not set). */
function optional<K extends string, V>(name: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [name]: value }) as { [P in K]?: V };
}

export function configToYaml(doc: ConfigDocument): string {
  return stringifyYaml(doc, { lineWidth: 0 });
}
