import { isUuid } from '../../errors.ts';
import { builder } from '../builder.ts';

export const AuditEntryRef = builder.drizzleObject('auditLog', {
  name: 'AuditEntry',
  description: 'One mutation: who, what, when, from where, and how it ended.',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    actorUserId: t.exposeID('actorUserId', { nullable: true }),
    actorEmail: t.exposeString('actorEmail', { nullable: true }),
    actorKind: t.exposeString('actorKind', { description: 'session, token, anonymous, cli or system.' }),
    tokenId: t.exposeID('tokenId', { nullable: true, description: 'The management token used, for automation.' }),
    orgId: t.exposeID('orgId', { nullable: true }),
    action: t.exposeString('action', { description: 'The mutation, e.g. createApiKey.' }),
    targetId: t.exposeString('targetId', { nullable: true }),
    outcome: t.exposeString('outcome', { description: '"ok", or the name of the error returned.' }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    details: t.string({ description: 'The input as JSON, with secrets replaced by "[secret]".', resolve: (a) => JSON.stringify(a.details) }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.drizzleConnection({
    type: 'auditLog',
    description: 'Newest first. Operators see everything (or one org); org members with audit:read see their org\'s.',
    args: {
      orgId: t.arg.id(),
      action: t.arg.string({ description: 'Only this mutation.' }),
      actorUserId: t.arg.id(),
    },
    authScopes: (_root, args) => (args.orgId ? { org: { id: args.orgId, can: 'audit:read' } } : { platformAdmin: true }),
    resolve: (query, _root, args, ctx) =>
      (args.orgId && !isUuid(args.orgId)) || (args.actorUserId && !isUuid(args.actorUserId)) ? [] : ctx.db.query.auditLog.findMany(
        query({
          where: {
            ...(args.orgId ? { orgId: args.orgId } : {}),
            ...(args.action ? { action: args.action } : {}),
            ...(args.actorUserId ? { actorUserId: args.actorUserId } : {}),
          },
          orderBy: { at: 'desc' },
        }),
      ),
  }),
);
