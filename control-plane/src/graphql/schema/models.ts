import type { ModelSellPrice } from '../../db/schema/index.ts';
import { ConfirmationRequiredError, ConflictError, InUseError, isUuid, NotFoundError, ValidationError } from '../../errors.ts';
import { createModel, deleteModel, setModelPrice, updateModel } from '../../services/models.ts';
import { DeletedRecordRef } from './results.ts';
import { currentMarkups } from '../../services/markups.ts';
import { costOf, listOf } from '../../services/prices.ts';
import { builder } from '../builder.ts';
import { ModelCapabilityEnum, OperatorTierEnum } from './enums.ts';
import { ModelMarkupRef } from './markups.ts';
import { TokenPriceInput, TokenPriceRef } from './prices.ts';

const ModelPriceRef = builder.drizzleObject('modelSellPrices', {
  name: 'ModelPrice',
  description: 'What customers pay for a model on a tier from `effectiveFrom` on, until a later price takes over.',
  fields: (t) => ({
    id: t.exposeID('id'),
    tier: t.expose('tier', { type: OperatorTierEnum }),
    price: t.field({ type: TokenPriceRef, resolve: (p) => p }),
    effectiveFrom: t.expose('effectiveFrom', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const ModelTargetRef = builder.drizzleObject('modelTargets', {
  name: 'ModelTarget',
  description: 'Where a model is served on the operator\'s tiers. Lower priority runs first; equal priorities share traffic by weight.',
  fields: (t) => ({
    id: t.exposeID('id'),
    modelId: t.exposeID('modelId'),
    model: t.relation('model'),
    channelId: t.exposeID('channelId'),
    channel: t.relation('channel'),
    upstreamModel: t.exposeString('upstreamModel'),
    priority: t.exposeInt('priority'),
    weight: t.exposeInt('weight'),
    cost: t.field({ type: TokenPriceRef, description: 'What the operator pays the provider.', resolve: (target) => costOf(target) }),
  }),
});

export const ModelByokTargetRef = builder.drizzleObject('modelByokTargets', {
  name: 'ModelByokTarget',
  description: 'Where `byok/<model>` goes for an org holding a credential for the provider.',
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeString('provider'),
    upstreamModel: t.exposeString('upstreamModel'),
    listPrice: t.field({
      type: TokenPriceRef,
      description: 'The provider\'s paid list price; the BYOK fee is a share of it, also on a free-tier key.',
      resolve: (target) => listOf(target),
    }),
  }),
});

/** The latest price per tier among prices sorted newest first. */
function latestPerTier(prices: ModelSellPrice[]): ModelSellPrice[] {
  const seen = new Set<string>();
  return prices.filter((p) => !seen.has(p.tier) && seen.add(p.tier));
}

export const ModelRef = builder.drizzleObject('models', {
  name: 'Model',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { description: 'What clients ask for, after an optional tier prefix.' }),
    maxOutputTokens: t.exposeInt('maxOutputTokens', { description: 'The largest output per choice: what is held when a client sets no cap.' }),
    contextWindow: t.exposeInt('contextWindow', { nullable: true, description: 'Tokens of input and output one request may hold; null when not stated. Shown as context_window in GET /v1/models.' }),
    capabilities: t.expose('capabilities', { type: [ModelCapabilityEnum], description: 'What the model can do, as GET /v1/models shows it.' }),
    aliases: t.exposeStringList('aliases', {
      description: 'Other names clients may ask for (with or without a tier prefix); a request for one is served, billed and recorded as this model. Unique across every model\'s name and aliases.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    prices: t.field({
      type: [ModelPriceRef],
      description: 'The price in effect now on each tier the model is sold on (the latest whose effectiveFrom is not in the future).',
      select: (_args, _ctx, nested) => ({
        with: { sellPrices: nested({ where: { effectiveFrom: { lte: new Date() } }, orderBy: { effectiveFrom: 'desc' } }) },
      }),
      resolve: (model) => latestPerTier(model.sellPrices),
    }),
    priceHistory: t.relation('sellPrices', {
      description: 'Every price, scheduled ones included, newest first.',
      query: { orderBy: { effectiveFrom: 'desc' } },
    }),
    markups: t.field({
      type: [ModelMarkupRef],
      description: 'The markups in effect now: the model\'s per tier, and each org\'s own (ended ones left out).',
      select: (_args, _ctx, nested) => ({
        with: { markups: nested({ where: { effectiveFrom: { lte: new Date() } }, orderBy: { effectiveFrom: 'desc' } }) },
      }),
      resolve: (model) => currentMarkups(model.markups),
    }),
    markupHistory: t.relation('markups', {
      description: 'Every markup, scheduled and ended ones included, newest first.',
      query: { orderBy: { effectiveFrom: 'desc' } },
    }),
    targets: t.relation('targets', { type: ModelTargetRef, query: { orderBy: { priority: 'asc', id: 'asc' } } }),
    byokTargets: t.relation('byokTargets', { type: ModelByokTargetRef, query: { orderBy: { provider: 'asc' } } }),
  }),
});

builder.queryFields((t) => ({
  models: t.drizzleConnection({
    type: 'models',
    description: 'By name. Operators only.',
    authScopes: { platformAdmin: true },
    args: { search: t.arg.string({ description: 'Part of the name, case-insensitive.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.models.findMany(
        query({
          where: args.search?.trim() ? { name: { ilike: `%${args.search.trim().replace(/[%_\\]/g, (c) => `\\${c}`)}%` } } : {},
          orderBy: { name: 'asc' },
        }),
      ),
  }),
  model: t.drizzleField({
    type: ModelRef,
    nullable: true,
    authScopes: { platformAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => (isUuid(args.id) ? ((await ctx.db.query.models.findFirst(query({ where: { id: args.id } }))) ?? null) : null),
  }),
}));

const TierPriceInput = builder.inputType('TierPriceInput', {
  fields: (t) => ({
    tier: t.field({ type: OperatorTierEnum, required: true }),
    price: t.field({ type: TokenPriceInput, required: true }),
  }),
});

const ModelTargetInput = builder.inputType('ModelTargetInput', {
  fields: (t) => ({
    channelId: t.id({ required: true }),
    upstreamModel: t.string({ required: true }),
    priority: t.int({ description: 'Lower runs first; defaults to 0.' }),
    weight: t.int({ description: 'Share of traffic among equal priorities; defaults to 1.' }),
    cost: t.field({ type: TokenPriceInput, required: true, description: 'What the operator pays the provider.' }),
  }),
});

const ByokTargetInput = builder.inputType('ByokTargetInput', {
  fields: (t) => ({
    provider: t.string({ required: true, description: 'A BYOK provider id from the providers query.' }),
    upstreamModel: t.string({ required: true }),
    listPrice: t.field({ type: TokenPriceInput, required: true, description: 'The provider\'s paid list price.' }),
  }),
});

const CreateModelInput = builder.inputType('CreateModelInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Public model name, without a tier prefix.' }),
    maxOutputTokens: t.int({ description: 'Defaults to 4096.' }),
    contextWindow: t.int(),
    capabilities: t.field({ type: [ModelCapabilityEnum] }),
    aliases: t.stringList({ description: 'Other names for the model; each must be free (no model has it as its name or an alias), else ConflictError.' }),
    prices: t.field({ type: [TierPriceInput], description: 'Sell prices from now on; a tier without one is not sold.' }),
    targets: t.field({ type: [ModelTargetInput] }),
    byokTargets: t.field({ type: [ByokTargetInput] }),
  }),
});

const UpdateModelInput = builder.inputType('UpdateModelInput', {
  description: 'Fields left out keep their value; contextWindow: null clears it; a list given replaces the old one ([] empties it).',
  fields: (t) => ({
    id: t.id({ required: true }),
    maxOutputTokens: t.int(),
    contextWindow: t.int(),
    capabilities: t.field({ type: [ModelCapabilityEnum] }),
    aliases: t.stringList({ description: 'Each must be free (no other model has it as its name or an alias), else ConflictError.' }),
  }),
});

const SetModelPriceInput = builder.inputType('SetModelPriceInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    tier: t.field({ type: OperatorTierEnum, required: true }),
    price: t.field({ type: TokenPriceInput, required: true }),
    effectiveFrom: t.field({ type: 'DateTime', description: 'Defaults to now; never in the past, so history stays as it was priced.' }),
    confirm: t.boolean({ description: 'Confirms a price below a target\'s cost (else ConfirmationRequiredError).' }),
  }),
});

builder.mutationFields((t) => ({
  createModel: t.field({
    type: ModelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: CreateModelInput, required: true }) },
    resolve: (_root, { input }, ctx) => createModel(ctx, input),
  }),
  updateModel: t.field({
    type: ModelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: UpdateModelInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateModel(ctx, input),
  }),
  setModelPrice: t.field({
    type: ModelPriceRef,
    description: 'Adds a sell price for a tier, in effect from effectiveFrom; earlier prices stay in the history.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError, ConfirmationRequiredError] },
    args: { input: t.arg({ type: SetModelPriceInput, required: true }) },
    resolve: (_root, { input }, ctx) => setModelPrice(ctx, input),
  }),
  deleteModel: t.field({
    type: DeletedRecordRef,
    description: 'Removes a model from /v1/models and routing, with its targets and prices. Refused with InUseError while a plan uses it.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, InUseError] },
    args: { input: t.arg({ type: ModelIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await deleteModel(ctx, input.id)).id }),
  }),
}));

const ModelIdInput = builder.inputType('ModelIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
