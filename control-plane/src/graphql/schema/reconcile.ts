import type { CounterReconciliation, OrgReconciliation, ReconcileReport } from '../../services/reconcile.ts';
import { reconcile } from '../../services/reconcile.ts';
import { builder } from '../builder.ts';

const OrgReconciliationRef = builder.objectRef<OrgReconciliation>('OrgReconciliation').implement({
  description: 'An org whose cached balance (or balance row) drifts from its ledger, in successive readings.',
  fields: (t) => ({
    orgId: t.exposeID('orgId'),
    orgSlug: t.string({
      nullable: true,
      resolve: async (o, _args, ctx) => (await ctx.db.query.orgs.findFirst({ columns: { slug: true }, where: { id: o.orgId } }))?.slug ?? null,
    }),
    ledger: t.expose('ledger', { type: 'Credits', description: 'The sum of its ledger entries.' }),
    balanceRow: t.expose('balanceRow', { type: 'Credits', description: 'The maintained balance row; should equal ledger.' }),
    store: t.expose('store', { type: 'Credits', nullable: true, description: 'The state store\'s balance; null when it holds none.' }),
    held: t.expose('held', { type: 'Credits', description: 'Held in the store for requests in flight.' }),
    unconsumed: t.expose('unconsumed', { type: 'Credits', description: 'Debited in the store, not consumed into the ledger yet.' }),
    undebited: t.expose('undebited', { type: 'Credits', description: 'In the ledger, not debited in the store yet.' }),
    deadLettered: t.expose('deadLettered', { type: 'Credits', description: 'Debited in the store, in unresolved dead letters (not in the ledger).' }),
    expectedStore: t.expose('expectedStore', { type: 'Credits', description: 'ledger − unconsumed + undebited − deadLettered.' }),
    drift: t.expose('drift', { type: 'Credits', description: 'store − expectedStore.' }),
    rowDrift: t.expose('rowDrift', { type: 'Credits', description: 'balanceRow − ledger.' }),
  }),
});

const CounterReconciliationRef = builder.objectRef<CounterReconciliation>('CounterReconciliation').implement({
  description: 'A spend counter (a credit limit\'s or a member allowance\'s) that differs from the usage records plus the events in the stream.',
  fields: (t) => ({
    orgId: t.exposeID('orgId'),
    keyId: t.exposeID('keyId', { description: 'A key it limits.' }),
    counter: t.exposeString('counter'),
    expected: t.field({ type: 'Credits', resolve: (c) => BigInt(c.expected) }),
    actual: t.field({ type: 'Credits', resolve: (c) => BigInt(c.actual) }),
  }),
});

const DeadLetterTotalsRef = builder.objectRef<ReconcileReport['deadLetters']>('DeadLetterTotals').implement({
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Unresolved dead letters.' }),
    cost: t.expose('cost', { type: 'Credits' }),
  }),
});

const ReconcileReportRef = builder.objectRef<ReconcileReport>('ReconcileReport').implement({
  description: 'The state store compared with the books: per org its balance, per key with a credit limit its spend counters.',
  fields: (t) => ({
    orgsChecked: t.exposeInt('orgsChecked'),
    countersChecked: t.exposeInt('countersChecked'),
    orgs: t.field({ type: [OrgReconciliationRef], description: 'Orgs that drift; empty when none does.', resolve: (r) => r.orgs }),
    counters: t.field({ type: [CounterReconciliationRef], description: 'Counters that drift.', resolve: (r) => r.counters }),
    unconsumedEvents: t.exposeInt('unconsumedEvents', { description: 'Usage events in the stream not in the ledger yet.' }),
    deadLetters: t.field({ type: DeadLetterTotalsRef, resolve: (r) => r.deadLetters }),
    repaired: t.exposeBoolean('repaired', { description: 'Whether what drifted was rebuilt from the ledger (repairStore).' }),
  }),
});

builder.queryField('reconcile', (t) =>
  t.field({
    type: ReconcileReportRef,
    description: 'Operators only: compares the state store\'s balances and counters with the ledger minus events not consumed yet (tollgate reconcile).',
    authScopes: { platformAdmin: true },
    resolve: (_root, _args, ctx) => reconcile(ctx.db, ctx.store),
  }),
);

builder.mutationField('repairStore', (t) =>
  t.field({
    type: ReconcileReportRef,
    description: 'Operators only: reconciles, then rebuilds what drifted from the ledger; returns the drift it found (tollgate reconcile --repair).',
    authScopes: { platformAdmin: true },
    errors: { types: [] },
    resolve: (_root, _args, ctx) => reconcile(ctx.db, ctx.store, { repair: true }),
  }),
);
