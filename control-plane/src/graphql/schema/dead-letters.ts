import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { resolveDeadLetter } from '../../services/dead-letters.ts';
import { builder } from '../builder.ts';

export const UsageDeadLetterRef = builder.drizzleObject('usageDeadLetters', {
  name: 'UsageDeadLetter',
  description:
    'A usage event the database refused (or could not read), kept whole instead of dropped. While unresolved and debited in the store, its cost is in the store but not in the ledger; reconcile counts it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    streamId: t.exposeString('streamId', { description: 'The stream entry it came from.' }),
    requestId: t.exposeString('requestId', { nullable: true, description: 'Read from the payload when it could be.' }),
    orgId: t.exposeString('orgId', { nullable: true }),
    cost: t.expose('cost', { type: 'Credits', nullable: true, description: 'What the event charged, when it could be read.' }),
    storeDebited: t.boolean({ description: 'Whether the state store\'s balance holds its debit.', resolve: (d) => d.storeDebited === 'true' }),
    payload: t.exposeString('payload', { description: 'The event as it was in the stream.' }),
    error: t.exposeString('error', { description: 'Why it was refused.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    resolvedBy: t.exposeID('resolvedBy', { nullable: true, description: 'The operator who resolved it.' }),
    resolutionNote: t.exposeString('resolutionNote', { nullable: true }),
  }),
});

builder.queryField('usageDeadLetters', (t) =>
  t.drizzleConnection({
    type: 'usageDeadLetters',
    description: 'Operators only. Newest first; resolved: false for those still open, true for those resolved, left out for all.',
    authScopes: { platformAdmin: true },
    args: { resolved: t.arg.boolean() },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.usageDeadLetters.findMany(
        query({
          where: args.resolved == null ? {} : { resolvedAt: args.resolved ? { isNotNull: true } : { isNull: true } },
          orderBy: { createdAt: 'desc', id: 'desc' },
        }),
      ),
  }),
);

const ResolveUsageDeadLetterInput = builder.inputType('ResolveUsageDeadLetterInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    note: t.string({ required: true, description: 'What was done about its money (up to 1000 characters).' }),
  }),
});

builder.mutationField('resolveUsageDeadLetter', (t) =>
  t.field({
    type: UsageDeadLetterRef,
    description:
      'Operators only. Marks a dead letter resolved; no money moves. Book what should be booked first (creditOrg, e.g. with the negative cost), then resolve it, then run tollgate reconcile.',
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: ResolveUsageDeadLetterInput, required: true }) },
    resolve: (_root, { input }, ctx) => resolveDeadLetter(ctx, input, ctx.user?.id ?? null),
  }),
);
