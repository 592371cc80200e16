import { builder } from '../builder.ts';
import { ConfirmationRequiredError, ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { creditOrgAndPublish } from '../../services/ledger.ts';
import { LedgerKindEnum } from './enums.ts';

export const LedgerEntryRef = builder.drizzleObject('ledgerEntries', {
  name: 'LedgerEntry',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    amount: t.expose('amount', { type: 'Credits', description: 'Positive adds to the balance, negative takes from it.' }),
    kind: t.expose('kind', { type: LedgerKindEnum }),
    reason: t.exposeString('reason'),
    idempotencyKey: t.exposeString('idempotencyKey'),
    requestId: t.exposeString('requestId', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreditOrgInput = builder.inputType('CreditOrgInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    amount: t.field({ type: 'Credits', required: true, description: 'Non-zero; negative takes credits away.' }),
    reason: t.string({ required: true }),
    idempotencyKey: t.string({
      required: true,
      description: 'Retrying with the same key and the same org and amount returns the first entry and adds nothing.',
    }),
    confirm: t.boolean({ description: 'Confirms a debit larger than the balance (else ConfirmationRequiredError).' }),
  }),
});

builder.mutationField('creditOrg', (t) =>
  t.field({
    type: LedgerEntryRef,
    authScopes: { platformAdmin: true },
    description: 'Operators only: a manual credit (or, negative, a debit) with a reason.',
    errors: { types: [ValidationError, NotFoundError, ConflictError, ConfirmationRequiredError] },
    args: { input: t.arg({ type: CreditOrgInput, required: true }) },
    resolve: (_root, { input }, ctx) => creditOrgAndPublish(ctx, { ...input, createdBy: ctx.user?.id ?? null }),
  }),
);
