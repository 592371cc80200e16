import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { addModelTarget, removeModelTarget, updateModelTarget } from '../../services/model-targets.ts';
import { removeModelByokTarget, setModelByokTarget } from '../../services/models.ts';
import { builder } from '../builder.ts';
import { ModelByokTargetRef, ModelTargetRef } from './models.ts';
import { TokenPriceInput } from './prices.ts';
import { DeletedRecordRef } from './results.ts';

// A model's targets, operator and BYOK, each changed on its own.

const AddModelTargetInput = builder.inputType('AddModelTargetInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    channelId: t.id({ required: true }),
    upstreamModel: t.string({ required: true }),
    priority: t.int({ description: 'Lower runs first; defaults to 0.' }),
    weight: t.int({ description: 'Share of traffic among equal priorities; defaults to 1.' }),
    cost: t.field({ type: TokenPriceInput, required: true, description: 'What the operator pays the provider.' }),
  }),
});

const UpdateModelTargetInput = builder.inputType('UpdateModelTargetInput', {
  description: 'Fields left out keep their value.',
  fields: (t) => ({
    id: t.id({ required: true }),
    channelId: t.id(),
    upstreamModel: t.string(),
    priority: t.int(),
    weight: t.int(),
    cost: t.field({ type: TokenPriceInput }),
  }),
});

const ModelTargetIdInput = builder.inputType('ModelTargetIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const SetModelByokTargetInput = builder.inputType('SetModelByokTargetInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    provider: t.string({ required: true, description: 'A BYOK provider id from the providers query.' }),
    upstreamModel: t.string({ required: true }),
    listPrice: t.field({ type: TokenPriceInput, required: true, description: 'The provider\'s paid list price.' }),
  }),
});

const RemoveModelByokTargetInput = builder.inputType('RemoveModelByokTargetInput', {
  fields: (t) => ({ modelId: t.id({ required: true }), provider: t.string({ required: true }) }),
});

builder.mutationFields((t) => ({
  addModelTarget: t.field({
    type: ModelTargetRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: AddModelTargetInput, required: true }) },
    resolve: (_root, { input }, ctx) => addModelTarget(ctx, input),
  }),
  updateModelTarget: t.field({
    type: ModelTargetRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: UpdateModelTargetInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateModelTarget(ctx, input),
  }),
  removeModelTarget: t.field({
    type: DeletedRecordRef,
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ModelTargetIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await removeModelTarget(ctx, input.id)).id }),
  }),
  setModelByokTarget: t.field({
    type: ModelByokTargetRef,
    description: 'Creates or replaces where byok/<model> goes for the provider.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetModelByokTargetInput, required: true }) },
    resolve: (_root, { input }, ctx) => setModelByokTarget(ctx, input),
  }),
  removeModelByokTarget: t.field({
    type: DeletedRecordRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: RemoveModelByokTargetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await removeModelByokTarget(ctx, input)).id }),
  }),
}));
