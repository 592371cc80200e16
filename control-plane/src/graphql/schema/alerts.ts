import { builder } from '../builder.ts';

export const OrgAlertKindEnum = builder.enumType('OrgAlertKind', {
  description: 'low_balance: the balance crossed the org\'s low-balance threshold downwards.',
  values: ['low_balance'] as const,
});

/** Written by the ledger trigger, once per downward crossing of the threshold (migration "balances"). */
export const OrgAlertRef = builder.drizzleObject('orgAlerts', {
  name: 'OrgAlert',
  description: 'Something about an org its people should know; the console and automation poll Org.alerts.',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    kind: t.expose('kind', { type: OrgAlertKindEnum }),
    balance: t.expose('balance', { type: 'Credits', description: 'The balance just after the crossing.' }),
    threshold: t.expose('threshold', { type: 'Credits', description: 'The threshold it crossed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
