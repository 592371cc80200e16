import { ConfirmationRequiredError, ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { setModelMarkup } from '../../services/markups.ts';
import { builder } from '../builder.ts';
import { OperatorTierEnum } from './enums.ts';

export const ModelMarkupRef = builder.drizzleObject('modelMarkups', {
  name: 'ModelMarkup',
  description:
    'A sell price as each target\'s cost times a markup, from `effectiveFrom` on, until a later markup of the same scope (tier, and org or every org) takes over. An org\'s markup rules over the model\'s, and the model\'s over its explicit price.',
  fields: (t) => ({
    id: t.exposeID('id'),
    tier: t.expose('tier', { type: OperatorTierEnum }),
    orgId: t.exposeID('orgId', { nullable: true, description: 'The org it is for; null for every org.' }),
    org: t.relation('org', { nullable: true }),
    markupBps: t.exposeInt('markupBps', {
      nullable: true,
      description: 'Basis points of the cost (12000 = cost × 1.2; 10000 sells at cost). Null ends the scope\'s markup: an org\'s falls back to the model\'s, the model\'s to its explicit price.',
    }),
    effectiveFrom: t.expose('effectiveFrom', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const SetModelMarkupInput = builder.inputType('SetModelMarkupInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    tier: t.field({ type: OperatorTierEnum, required: true }),
    orgId: t.id({ description: 'An org whose markup overrides the model\'s (and its explicit price) for it; omit for every org.' }),
    markupBps: t.int({
      required: false,
      description: 'Basis points of each target\'s cost, 0 to 1000000 (12000 = cost × 1.2); null (given, not left out) ends the markup from effectiveFrom. Each rate is rounded up to a whole nanocredit per million tokens (or per image).',
    }),
    effectiveFrom: t.field({ type: 'DateTime', description: 'Defaults to now; never in the past, so history stays as it was priced.' }),
    confirm: t.boolean({ description: 'Confirms a markup below 10000 bps, which sells below cost (else ConfirmationRequiredError).' }),
  }),
});

builder.mutationFields((t) => ({
  setModelMarkup: t.field({
    type: ModelMarkupRef,
    description: 'Adds a markup for a model on a tier, for every org or one org, in effect from effectiveFrom; earlier ones stay in the history.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError, ConfirmationRequiredError] },
    args: { input: t.arg({ type: SetModelMarkupInput, required: true }) },
    resolve: (_root, { input }, ctx) => setModelMarkup(ctx, input),
  }),
}));
