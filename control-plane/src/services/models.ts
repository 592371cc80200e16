import { BYOK_PROVIDERS, type OperatorTier, type ProviderId } from '@tollgate/shared';
import { and, eq, inArray, or } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { modelByokTargets, modelMarkups, models, modelSellPrices, modelTargets, plans, providerChannels, type Model, type ModelByokTarget, type ModelSellPrice } from '../db/schema/index.ts';
import { ConfirmationRequiredError, ConflictError, InUseError, NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { aliasList, assertNamesFree } from './model-names.ts';
import { costColumns, listColumns, priceFields, type PriceFields, type PriceInput } from './prices.ts';
import { commitChange } from './unit-of-work.ts';
import { capabilityList, id as idInput, intInRange, modelName, operatorTier, provider as providerInput, requiredText } from './validate.ts';

export const MAX_OUTPUT_TOKENS_LIMIT = 10_000_000;
export const MAX_CONTEXT_WINDOW = 100_000_000;
export const MAX_PRIORITY = 1_000_000;
export const MAX_WEIGHT = 1_000_000;

export interface TargetInput {
  channelId: string;
  upstreamModel: string;
  priority?: number | null | undefined;
  weight?: number | null | undefined;
  cost: PriceInput;
}

export interface TierPriceInput {
  tier: string;
  price: PriceInput;
}

export interface ByokTargetInput {
  provider: string;
  upstreamModel: string;
  listPrice: PriceInput;
}

export interface CreateModelInput {
  name: string;
  maxOutputTokens?: number | null | undefined;
  contextWindow?: number | null | undefined;
  capabilities?: readonly string[] | null | undefined;
  /** Other names clients may ask for; unique across every model's name and aliases. */
  aliases?: readonly string[] | null | undefined;
  prices?: readonly TierPriceInput[] | null | undefined;
  targets?: readonly TargetInput[] | null | undefined;
  byokTargets?: readonly ByokTargetInput[] | null | undefined;
}

export interface UpdateModelInput {
  id: string;
  maxOutputTokens?: number | null | undefined;
  /** null clears it; absent keeps it. */
  contextWindow?: number | null | undefined;
  /** Replace the list when given; absent (or null) keeps it. */
  capabilities?: readonly string[] | null | undefined;
  aliases?: readonly string[] | null | undefined;
}

export function maxOutputTokensInput(value: number): number {
  return intInRange(value, 'maxOutputTokens', 1, MAX_OUTPUT_TOKENS_LIMIT);
}

export function contextWindowInput(value: number): number {
  return intInRange(value, 'contextWindow', 1, MAX_CONTEXT_WINDOW);
}

/** A target's row values, checked; the channel must exist (a missing one is NotFoundError). */
export function targetValues(input: TargetInput, field: string) {
  return {
    channelId: idInput(input.channelId, 'channel'),
    upstreamModel: requiredText(input.upstreamModel, `${field}.upstreamModel`),
    priority: input.priority != null ? intInRange(input.priority, `${field}.priority`, 0, MAX_PRIORITY) : 0,
    weight: input.weight != null ? intInRange(input.weight, `${field}.weight`, 1, MAX_WEIGHT) : 1,
    ...costColumns(priceFields(input.cost, `${field}.cost`)),
  };
}

export async function assertChannelsExist(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await db.select({ id: providerChannels.id }).from(providerChannels).where(inArray(providerChannels.id, [...ids]))).map((r) => r.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw new NotFoundError(`no channel with id ${missing}`);
}

function byokProvider(value: string, field: string): ProviderId {
  const provider = providerInput(value, field);
  if (!BYOK_PROVIDERS.includes(provider)) throw new ValidationError(`${field}: ${provider} is not a BYOK provider`, field);
  return provider;
}

function byokValues(input: ByokTargetInput, field: string) {
  return {
    provider: byokProvider(input.provider, `${field}.provider`),
    upstreamModel: requiredText(input.upstreamModel, `${field}.upstreamModel`),
    ...listColumns(priceFields(input.listPrice, `${field}.listPrice`)),
  };
}

export async function findModel(db: Db, id: string): Promise<Model> {
  const model = await db.query.models.findFirst({ where: { id: idInput(id, 'model') } });
  if (!model) throw new NotFoundError('no model with this id');
  return model;
}

/** Creates a model with its sell prices, targets and BYOK targets in one transaction. */
export async function createModel(ctx: ServiceContext, input: CreateModelInput): Promise<Model> {
  const name = modelName(input.name);
  const maxOutputTokens = input.maxOutputTokens != null ? maxOutputTokensInput(input.maxOutputTokens) : undefined;
  const contextWindow = input.contextWindow != null ? contextWindowInput(input.contextWindow) : null;
  const capabilities = capabilityList(input.capabilities ?? []);
  const aliases = aliasList(input.aliases ?? [], name);
  const prices = (input.prices ?? []).map((p, i) => ({ tier: operatorTier(p.tier, `prices[${i}].tier`), ...priceFields(p.price, `prices[${i}].price`) }));
  const tiers = prices.map((p) => p.tier);
  if (new Set(tiers).size !== tiers.length) throw new ValidationError('prices names a tier twice', 'prices');
  const targets = (input.targets ?? []).map((t, i) => targetValues(t, `targets[${i}]`));
  const targetKeys = targets.map((t) => `${t.channelId}\0${t.upstreamModel}`);
  if (new Set(targetKeys).size !== targetKeys.length) throw new ValidationError('targets names a channel and upstream model twice', 'targets');
  const byok = (input.byokTargets ?? []).map((b, i) => byokValues(b, `byokTargets[${i}]`));
  if (new Set(byok.map((b) => b.provider)).size !== byok.length) throw new ValidationError('byokTargets names a provider twice', 'byokTargets');
  await assertChannelsExist(ctx.db, targets.map((t) => t.channelId));
  let model: Model;
  try {
    model = await commitChange(ctx, async (tx, publish) => {
      publish({ kind: 'routes' });
      await assertNamesFree(tx, [name, ...aliases], null);
      const [created] = await tx
        .insert(models)
        .values({ name, contextWindow, capabilities, aliases, ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}) })
        .returning();
      const modelId = created!.id;
      if (targets.length > 0) await tx.insert(modelTargets).values(targets.map((t) => ({ ...t, modelId })));
      if (prices.length > 0) await tx.insert(modelSellPrices).values(prices.map((p) => ({ ...p, modelId })));
      if (byok.length > 0) await tx.insert(modelByokTargets).values(byok.map((b) => ({ ...b, modelId })));
      return created!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`a model named "${name}" already exists`);
    throw error;
  }
  return model;
}

export async function updateModel(ctx: ServiceContext, input: UpdateModelInput): Promise<Model> {
  const current = await findModel(ctx.db, input.id);
  const changes = {
    ...(input.maxOutputTokens != null ? { maxOutputTokens: maxOutputTokensInput(input.maxOutputTokens) } : {}),
    ...(input.contextWindow !== undefined ? { contextWindow: input.contextWindow === null ? null : contextWindowInput(input.contextWindow) } : {}),
    ...(input.capabilities != null ? { capabilities: capabilityList(input.capabilities) } : {}),
    ...(input.aliases != null ? { aliases: aliasList(input.aliases, current.name) } : {}),
  };
  if (Object.keys(changes).length === 0) return current;
  const model = await commitChange(ctx, async (tx, publish) => {
    if (changes.aliases) await assertNamesFree(tx, changes.aliases, current.id);
    const [row] = await tx.update(models).set(changes).where(eq(models.id, current.id)).returning();
    publish({ kind: 'routes' });
    return row;
  });
  if (!model) throw new NotFoundError('no model with this id');
  return model;
}

export interface SetModelPriceInput {
  modelId: string;
  tier: string;
  price: PriceInput;
  /** When the price takes effect; absent for now. Never in the past: that would rewrite history. */
  effectiveFrom?: Date | null | undefined;
  /** A price below a target's cost is refused with ConfirmationRequiredError unless confirmed. */
  confirm?: boolean | null | undefined;
}

/** Warnings for a sell price under what a target of the tier costs the operator, per token or per image. */
export function belowCost(
  price: PriceFields,
  targets: readonly { channel: string; costInput: bigint; costOutput: bigint; costImagePrices: PriceFields['imagePrices'] }[],
  tier: string,
): string[] {
  return targets.flatMap((t) => {
    const images = (price.imagePrices ?? []).filter((sell) => (t.costImagePrices ?? []).some((cost) => cost.size === sell.size && cost.quality === sell.quality && sell.price < cost.price));
    return price.input < t.costInput || price.output < t.costOutput || images.length > 0
      ? [`the ${tier} sell price is below the cost of the target on channel "${t.channel}": every request would lose money`]
      : [];
  });
}

/** Adds a sell price for a tier; earlier prices stay, so past requests remain priceable. */
export async function setModelPrice(ctx: ServiceContext, input: SetModelPriceInput): Promise<ModelSellPrice> {
  const model = await findModel(ctx.db, input.modelId);
  const tier: OperatorTier = operatorTier(input.tier);
  const price = priceFields(input.price, 'price');
  if (!input.confirm) {
    const targets = await ctx.db
      .select({ channel: providerChannels.name, costInput: modelTargets.costInput, costOutput: modelTargets.costOutput, costImagePrices: modelTargets.costImagePrices })
      .from(modelTargets)
      .innerJoin(providerChannels, eq(providerChannels.id, modelTargets.channelId))
      .where(and(eq(modelTargets.modelId, model.id), eq(providerChannels.tier, tier)));
    const warnings = belowCost(price, targets, tier);
    if (warnings.length > 0) throw new ConfirmationRequiredError(warnings);
  }
  const now = new Date();
  const effectiveFrom = input.effectiveFrom ?? now;
  if (effectiveFrom.getTime() < now.getTime()) throw new ValidationError('effectiveFrom must not be in the past; omit it for now', 'effectiveFrom');
  let row: ModelSellPrice;
  try {
    row = await commitChange(ctx, async (tx, publish) => {
      const [inserted] = await tx.insert(modelSellPrices).values({ modelId: model.id, tier, ...price, effectiveFrom }).returning();
      publish({ kind: 'routes' });
      return inserted!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`${model.name} already has a ${tier} price from this instant`);
    throw error;
  }
  return row;
}

/** Sets (creates or replaces) where `byok/<model>` goes for a provider, and its list price. */
export async function setModelByokTarget(ctx: ServiceContext, input: ByokTargetInput & { modelId: string }): Promise<ModelByokTarget> {
  const model = await findModel(ctx.db, input.modelId);
  const values = byokValues(input, 'byokTarget');
  return commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .insert(modelByokTargets)
      .values({ modelId: model.id, ...values })
      .onConflictDoUpdate({ target: [modelByokTargets.modelId, modelByokTargets.provider], set: values })
      .returning();
    publish({ kind: 'routes' });
    return row!;
  });
}

export async function removeModelByokTarget(ctx: ServiceContext, input: { modelId: string; provider: string }): Promise<ModelByokTarget> {
  const model = await findModel(ctx.db, input.modelId);
  const provider = providerInput(input.provider);
  const row = await commitChange(ctx, async (tx, publish) => {
    const [deleted] = await tx
      .delete(modelByokTargets)
      .where(and(eq(modelByokTargets.modelId, model.id), eq(modelByokTargets.provider, provider)))
      .returning();
    publish({ kind: 'routes' });
    return deleted;
  });
  if (!row) throw new NotFoundError(`${model.name} has no BYOK target for ${provider}`);
  return row;
}

/** Deletes a model with its targets, prices, markups and BYOK targets; a plan's lane keeps it (InUseError). */
export async function deleteModel(ctx: ServiceContext, id: string): Promise<Model> {
  const model = await findModel(ctx.db, id);
  const lanes = await ctx.db
    .select({ name: plans.name })
    .from(plans)
    .where(or(eq(plans.premiumModelId, model.id), eq(plans.continuationModelId, model.id), eq(plans.fallbackModelId, model.id)));
  if (lanes.length > 0) {
    const usedBy = lanes.map((p) => p.name);
    throw new InUseError(`model "${model.name}" is a lane of plan ${usedBy.map((n) => `"${n}"`).join(', ')}: change those plans first`, usedBy);
  }
  return commitChange(ctx, async (tx, publish) => {
    await tx.delete(modelTargets).where(eq(modelTargets.modelId, model.id));
    await tx.delete(modelSellPrices).where(eq(modelSellPrices.modelId, model.id));
    await tx.delete(modelMarkups).where(eq(modelMarkups.modelId, model.id));
    await tx.delete(modelByokTargets).where(eq(modelByokTargets.modelId, model.id));
    await tx.delete(models).where(eq(models.id, model.id));
    publish({ kind: 'routes' });
    return model;
  });
}
