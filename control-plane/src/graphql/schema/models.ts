import { modelPrices, models, modelTargets } from '../../db/schema/index.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { builder } from '../builder.ts';
import { ConflictError, isUuid, NotFoundError, ValidationError } from '../../errors.ts';

const ModelPriceRef = builder.drizzleObject('modelPrices', {
  name: 'ModelPrice',
  description: 'Credits per million tokens: cost is what the upstream charges, price what the customer pays.',
  fields: (t) => ({
    inputCostPerMillion: t.expose('inputCostPerMillion', { type: 'Credits' }),
    outputCostPerMillion: t.expose('outputCostPerMillion', { type: 'Credits' }),
    inputPricePerMillion: t.expose('inputPricePerMillion', { type: 'Credits' }),
    outputPricePerMillion: t.expose('outputPricePerMillion', { type: 'Credits' }),
    effectiveFrom: t.expose('effectiveFrom', { type: 'DateTime' }),
  }),
});

const ModelTargetRef = builder.drizzleObject('modelTargets', {
  name: 'ModelTarget',
  fields: (t) => ({
    channelId: t.exposeID('channelId'),
    channel: t.relation('channel'),
    upstreamModel: t.exposeString('upstreamModel'),
    priority: t.exposeInt('priority'),
    weight: t.exposeInt('weight'),
  }),
});

export const ModelRef = builder.drizzleObject('models', {
  name: 'Model',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    targets: t.relation('targets', { type: ModelTargetRef, query: { orderBy: { priority: 'asc' } } }),
    price: t.field({
      type: ModelPriceRef,
      nullable: true,
      description: 'The price in effect now: the latest one whose effectiveFrom is not in the future.',
      select: (_args, _ctx, nested) => ({
        with: {
          prices: nested({ where: { effectiveFrom: { lte: new Date() } }, orderBy: { effectiveFrom: 'desc' }, limit: 1 }),
        },
      }),
      resolve: (model) => model.prices[0] ?? null,
    }),
  }),
});

builder.queryField('models', (t) =>
  t.drizzleField({
    type: [ModelRef],
    authScopes: { platformAdmin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.models.findMany(query({ orderBy: { name: 'asc' } })),
  }),
);

const PriceInput = builder.inputType('PriceInput', {
  fields: (t) => ({
    inputCostPerMillion: t.field({ type: 'Credits', required: true }),
    outputCostPerMillion: t.field({ type: 'Credits', required: true }),
    inputPricePerMillion: t.field({ type: 'Credits', required: true }),
    outputPricePerMillion: t.field({ type: 'Credits', required: true }),
  }),
});

const CreateModelInput = builder.inputType('CreateModelInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Public model name, without a tier prefix.' }),
    channelId: t.id({ required: true }),
    upstreamModel: t.string({ required: true }),
    price: t.field({ type: PriceInput, required: true }),
  }),
});

builder.mutationField('createModel', (t) =>
  t.field({
    type: ModelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: CreateModelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const name = input.name.trim();
      // A slash would be read as a `tier/` prefix by the data plane.
      if (!name || name.includes('/')) throw new ValidationError('name must be non-empty and contain no "/"', 'name');
      const upstreamModel = input.upstreamModel.trim();
      if (!upstreamModel) throw new ValidationError('upstreamModel must not be empty', 'upstreamModel');
      for (const [field, value] of Object.entries(input.price)) {
        if (value < 0n) throw new ValidationError(`${field} must not be negative`, `price.${field}`);
      }
      const channel = isUuid(input.channelId)
        ? await ctx.db.query.providerChannels.findFirst({ where: { id: input.channelId } })
        : undefined;
      if (!channel) throw new NotFoundError('no provider channel with this id');
      try {
        const model = await ctx.db.transaction(async (tx) => {
          const [created] = await tx.insert(models).values({ name }).returning();
          await tx.insert(modelTargets).values({ modelId: created!.id, channelId: channel.id, upstreamModel });
          await tx.insert(modelPrices).values({ modelId: created!.id, ...input.price });
          return created!;
        });
        await ctx.publisher.publishRoutes();
        return model;
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`a model named "${name}" already exists`);
        throw error;
      }
    },
  }),
);
