import type { AttemptRecord } from '@tollgate/shared';
import { builder } from '../builder.ts';
import { createdAtBound } from '../keyset.ts';
import { isUuid } from '../../errors.ts';
import { ChargeKindEnum, LaneEnum, TierEnum } from './enums.ts';

const UpstreamAttemptRef = builder.objectRef<AttemptRecord>('UpstreamAttempt').implement({
  description: 'One upstream call made for a request: why it failed or fell back.',
  fields: (t) => ({
    channelId: t.exposeID('channelId', { nullable: true, description: 'Null for a call with the org\'s own (BYOK) credential.' }),
    provider: t.exposeString('provider'),
    upstreamModel: t.exposeString('upstreamModel'),
    outcome: t.exposeString('outcome', { description: '"ok" or "failed".' }),
    status: t.exposeInt('status', { nullable: true, description: 'The upstream\'s HTTP status, when it answered.' }),
    errorClass: t.exposeString('errorClass', { nullable: true }),
    message: t.exposeString('message', { nullable: true, description: 'Sanitised: no secret, no body echo.' }),
    latencyMs: t.exposeInt('latencyMs'),
  }),
});

export const UsageRecordRef = builder.drizzleObject('usageRecords', {
  name: 'UsageRecord',
  fields: (t) => ({
    requestId: t.exposeString('requestId'),
    clientRequestId: t.exposeString('clientRequestId', { nullable: true, description: 'The x-request-id the client sent, when it sent a well-formed one.' }),
    orgId: t.exposeID('orgId'),
    apiKeyId: t.exposeID('apiKeyId'),
    model: t.exposeString('model'),
    tier: t.expose('tier', { type: TierEnum }),
    lane: t.expose('lane', { type: LaneEnum, nullable: true }),
    provider: t.exposeString('provider', { nullable: true, description: 'The provider that served the request; null when none was called.' }),
    channelId: t.exposeID('channelId', { nullable: true, description: 'The operator channel; null for byok or when none was called.' }),
    byokCredentialId: t.exposeID('byokCredentialId', { nullable: true }),
    upstreamModel: t.exposeString('upstreamModel', { nullable: true }),
    endpoint: t.exposeString('endpoint'),
    stream: t.exposeBoolean('stream'),
    inputTokens: t.expose('inputTokens', { type: 'TokenCount', description: 'Input tokens billed at the input rate (not cached).' }),
    cachedInputTokens: t.expose('cachedInputTokens', { type: 'TokenCount', description: 'Input tokens read from the provider\'s prompt cache.' }),
    cacheWriteTokens: t.expose('cacheWriteTokens', { type: 'TokenCount', description: 'Input tokens written to the provider\'s prompt cache.' }),
    outputTokens: t.expose('outputTokens', { type: 'TokenCount', description: 'Output tokens that are not reasoning.' }),
    reasoningTokens: t.expose('reasoningTokens', { type: 'TokenCount' }),
    images: t.exposeInt('images', { nullable: true, description: 'Images billed, for image generation (priced per image); null for every other endpoint.' }),
    usageSource: t.exposeString('usageSource', { description: '"reported" by the provider, or "estimated" by a tokenizer.' }),
    chargeKind: t.expose('chargeKind', { type: ChargeKindEnum }),
    cost: t.expose('cost', { type: 'Credits', description: 'What the org was charged: the sell price, or for byok the BYOK fee.' }),
    costNanocredits: t.string({ description: 'The cost as an integer number of nanocredits.', resolve: (r) => r.cost.toString() }),
    providerCost: t.expose('providerCost', { type: 'Credits', description: 'What the operator pays the provider for this usage (0 for byok).' }),
    hold: t.expose('hold', { type: 'Credits', description: 'What was held at admission; the cost never exceeds it.' }),
    overHold: t.exposeBoolean('overHold', { description: 'The usage priced above the hold and was charged the hold.' }),
    attempts: t.field({ type: [UpstreamAttemptRef], resolve: (r) => r.attempts }),
    status: t.exposeString('status'),
    httpStatus: t.exposeInt('httpStatus'),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    latencyMs: t.exposeInt('latencyMs'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  usageRecord: t.drizzleField({
    type: UsageRecordRef,
    nullable: true,
    description: 'One request\'s record. Needs billing:read in its org.',
    args: { requestId: t.arg.string({ required: true }) },
    authScopes: async (_root, args, ctx) => {
      const row = await ctx.db.query.usageRecords.findFirst({ columns: { orgId: true }, where: { requestId: args.requestId } });
      // Unknown ids: operators get null, others are refused as for another org's record.
      return row ? { org: { id: row.orgId, can: 'billing:read' } } : { platformAdmin: true };
    },
    resolve: async (query, _root, args, ctx) =>
      (await ctx.db.query.usageRecords.findFirst(query({ where: { requestId: args.requestId } }))) ?? null,
  }),
  usageRecords: t.drizzleConnection({
    type: 'usageRecords',
    description: 'An org\'s usage records, newest first, optionally for one key and from an instant. Needs billing:read.',
    args: { orgId: t.arg.id({ required: true }), apiKeyId: t.arg.id(), since: t.arg({ type: 'DateTime' }) },
    authScopes: (_root, args) => ({ org: { id: args.orgId, can: 'billing:read' } }),
    resolve: async (query, _root, args, ctx) =>
      isUuid(args.orgId) && (!args.apiKeyId || isUuid(args.apiKeyId))
        ? ctx.db.query.usageRecords.findMany(
            query({
              where: {
                orgId: args.orgId,
                ...(args.apiKeyId ? { apiKeyId: args.apiKeyId } : {}),
                // Both bounds on created_at: the cursor's (keyset.ts), so a deep page starts at it in the index, and `since`.
                AND: [createdAtBound(args), args.since ? { createdAt: { gte: args.since } } : {}],
              },
              orderBy: { createdAt: 'desc', requestId: 'desc' },
            }),
          )
        : [],
  }),
}));
