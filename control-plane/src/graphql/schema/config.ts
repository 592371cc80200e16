import { ConfirmationRequiredError, ConflictError, InUseError, NotFoundError, ValidationError } from '../../errors.ts';
import { applyConfig, configToYaml, exportConfig, parseConfigDocument, type ApplyResult, type Change } from '../../services/declarative.ts';
import { builder } from '../builder.ts';

const ConfigChangeRef = builder.objectRef<Change>('ConfigChange').implement({
  description: 'One difference between the document and the current state.',
  fields: (t) => ({
    action: t.exposeString('action', { description: 'create or update.' }),
    kind: t.exposeString('kind', { description: 'settings, channel, model, price, markup, target, byokTarget, plan, org or key.' }),
    name: t.exposeString('name'),
    fields: t.exposeStringList('fields', { description: 'For an update, the fields that differ (names only).' }),
  }),
});

const CreatedKeyRef = builder.objectRef<ApplyResult['createdKeys'][number]>('AppliedKeySecret').implement({
  fields: (t) => ({
    org: t.exposeString('org', { description: 'The org\'s slug.' }),
    name: t.exposeString('name'),
    secret: t.exposeString('secret', { description: 'Shown only here, once.' }),
  }),
});

const ApplyResultRef = builder.objectRef<ApplyResult>('ApplyConfigResult').implement({
  fields: (t) => ({
    dryRun: t.exposeBoolean('dryRun'),
    changes: t.field({ type: [ConfigChangeRef], resolve: (r) => r.changes }),
    createdKeys: t.field({ type: [CreatedKeyRef], resolve: (r) => r.createdKeys }),
  }),
});

const ApplyConfigInput = builder.inputType('ApplyConfigInput', {
  fields: (t) => ({
    document: t.string({ required: true, description: 'The YAML (or JSON) document `tollgate export` prints.' }),
    dryRun: t.boolean({ description: 'Only report the changes.' }),
    confirm: t.boolean({ description: 'Confirms risky changes (a sell price below cost).' }),
  }),
});

builder.queryField('exportConfig', (t) =>
  t.string({
    description: 'Operators only. The catalogue and the orgs as the YAML document applyConfig takes, every credential masked.',
    authScopes: { platformAdmin: true },
    resolve: async (_root, _args, ctx) => configToYaml(await exportConfig(ctx.db)),
  }),
);

builder.mutationField('applyConfig', (t) =>
  t.field({
    type: ApplyResultRef,
    description: 'Operators only. Creates or updates what the document describes; applying it twice changes nothing. Deletes nothing.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError, InUseError, ConfirmationRequiredError] },
    args: { input: t.arg({ type: ApplyConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      applyConfig(ctx, parseConfigDocument(input.document), { dryRun: input.dryRun ?? false, confirm: input.confirm ?? false, createdBy: ctx.user?.id ?? null }),
  }),
);
