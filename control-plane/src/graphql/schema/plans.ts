import type { Tier } from '@tollgate/shared';
import { ConflictError, InUseError, NotFoundError, ValidationError } from '../../errors.ts';
import { createPlan, deletePlan, setOrgPlan, updatePlan } from '../../services/plans.ts';
import { builder } from '../builder.ts';
import { PlanWindowEnum, TierEnum } from './enums.ts';
import { OrgRef } from './orgs.ts';
import { DeletedRecordRef } from './results.ts';

const PlanLaneRef = builder.objectRef<{ model: string; tier: Tier }>('PlanLane').implement({
  description: 'A model and the tier to use it on.',
  fields: (t) => ({ model: t.exposeString('model'), tier: t.expose('tier', { type: TierEnum }) }),
});

const lane = (model: { name: string } | null, tier: Tier | null) => (model && tier ? { model: model.name, tier } : null);

export const PlanRef = builder.drizzleObject('plans', {
  name: 'Plan',
  description: 'A flat-fee plan: how `auto` requests route (premium while the allowance lasts, then continuation) and its limits.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    window: t.expose('window', { type: PlanWindowEnum }),
    premiumAllowanceTokens: t.expose('premiumAllowanceTokens', {
      type: 'TokenCount',
      description: 'Premium-lane tokens (input + output) per org and window.',
    }),
    concurrency: t.exposeInt('concurrency', { nullable: true, description: 'Concurrent requests per org; null for no cap.' }),
    continuationAllowed: t.exposeBoolean('continuationAllowed', { description: 'Past the allowance, continue on the continuation lane (else HTTP 402).' }),
    fallbackAllowed: t.exposeBoolean('fallbackAllowed', { description: 'When a lane\'s targets all failed, try the fallback lane.' }),
    premiumLane: t.field({
      type: PlanLaneRef,
      select: { with: { premiumModel: { columns: { name: true } } } },
      resolve: (p) => lane(p.premiumModel, p.premiumTier)!,
    }),
    continuationLane: t.field({
      type: PlanLaneRef,
      nullable: true,
      select: { with: { continuationModel: { columns: { name: true } } } },
      resolve: (p) => lane(p.continuationModel, p.continuationTier),
    }),
    fallbackLane: t.field({
      type: PlanLaneRef,
      nullable: true,
      select: { with: { fallbackModel: { columns: { name: true } } } },
      resolve: (p) => lane(p.fallbackModel, p.fallbackTier),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('plans', (t) =>
  t.drizzleConnection({
    type: 'plans',
    description: 'By name. Operators only.',
    authScopes: { platformAdmin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.plans.findMany(query({ orderBy: { name: 'asc' } })),
  }),
);

const PlanLaneInput = builder.inputType('PlanLaneInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'A model\'s public name.' }),
    tier: t.field({ type: TierEnum, required: true }),
  }),
});

const CreatePlanInput = builder.inputType('CreatePlanInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    window: t.field({ type: PlanWindowEnum, required: true }),
    premiumAllowanceTokens: t.field({ type: 'TokenCount', required: true }),
    concurrency: t.int({ description: 'Concurrent requests per org; omit for no cap.' }),
    continuationAllowed: t.boolean({ required: true, description: 'Needs a continuationLane.' }),
    fallbackAllowed: t.boolean({ required: true, description: 'Needs a fallbackLane.' }),
    premiumLane: t.field({ type: PlanLaneInput, required: true }),
    continuationLane: t.field({ type: PlanLaneInput }),
    fallbackLane: t.field({ type: PlanLaneInput }),
  }),
});

const UpdatePlanInput = builder.inputType('UpdatePlanInput', {
  description: 'Fields left out keep their value; concurrency, continuationLane and fallbackLane set to null are removed.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    window: t.field({ type: PlanWindowEnum }),
    premiumAllowanceTokens: t.field({ type: 'TokenCount' }),
    concurrency: t.int(),
    continuationAllowed: t.boolean(),
    fallbackAllowed: t.boolean(),
    premiumLane: t.field({ type: PlanLaneInput }),
    continuationLane: t.field({ type: PlanLaneInput }),
    fallbackLane: t.field({ type: PlanLaneInput }),
  }),
});

const PlanIdInput = builder.inputType('PlanIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const SetOrgPlanInput = builder.inputType('SetOrgPlanInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    planId: t.id({ description: 'null (or left out) takes the org off any plan.' }),
  }),
});

builder.mutationFields((t) => ({
  createPlan: t.field({
    type: PlanRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: CreatePlanInput, required: true }) },
    resolve: (_root, { input }, ctx) => createPlan(ctx, input),
  }),
  updatePlan: t.field({
    type: PlanRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: UpdatePlanInput, required: true }) },
    resolve: (_root, { input }, ctx) => updatePlan(ctx, input),
  }),
  deletePlan: t.field({
    type: DeletedRecordRef,
    description: 'Refused with InUseError while orgs are on the plan.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, InUseError] },
    args: { input: t.arg({ type: PlanIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await deletePlan(ctx, input.id)).id }),
  }),
  setOrgPlan: t.field({
    type: OrgRef,
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: SetOrgPlanInput, required: true }) },
    resolve: (_root, { input }, ctx) => setOrgPlan(ctx, input.orgId, input.planId ?? null),
  }),
}));
