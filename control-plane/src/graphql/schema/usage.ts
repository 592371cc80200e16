import { builder } from '../builder.ts';
import { isUuid } from '../../errors.ts';
import { TierEnum } from './enums.ts';

export const UsageRecordRef = builder.drizzleObject('usageRecords', {
  name: 'UsageRecord',
  fields: (t) => ({
    requestId: t.exposeString('requestId'),
    orgId: t.exposeID('orgId'),
    apiKeyId: t.exposeID('apiKeyId'),
    model: t.exposeString('model'),
    tier: t.expose('tier', { type: TierEnum }),
    channelId: t.exposeID('channelId'),
    upstreamModel: t.exposeString('upstreamModel'),
    stream: t.exposeBoolean('stream'),
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    usageSource: t.exposeString('usageSource', { description: '"reported" by the provider, or "estimated" by a tokenizer.' }),
    cost: t.expose('cost', { type: 'Credits' }),
    costNanocredits: t.string({ description: 'The cost as an integer number of nanocredits.', resolve: (r) => r.cost.toString() }),
    status: t.exposeString('status'),
    httpStatus: t.exposeInt('httpStatus'),
    latencyMs: t.exposeInt('latencyMs'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  usageRecord: t.drizzleField({
    type: UsageRecordRef,
    nullable: true,
    authScopes: { platformAdmin: true },
    args: { requestId: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      (await ctx.db.query.usageRecords.findFirst(query({ where: { requestId: args.requestId } }))) ?? null,
  }),
  usageRecords: t.drizzleConnection({
    type: 'usageRecords',
    description: 'An org\'s usage records, newest first.',
    authScopes: { platformAdmin: true },
    args: { orgId: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      isUuid(args.orgId)
        ? ctx.db.query.usageRecords.findMany(query({ where: { orgId: args.orgId }, orderBy: { createdAt: 'desc', requestId: 'desc' } }))
        : [],
  }),
}));
