import { GraphQLError, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { isUuid } from '../errors.ts';
import { auditDetails, recordAudit } from '../services/audit.ts';
import type { Context } from './context.ts';

/**
 * Records every mutation in the audit log, whatever its outcome (ok, a typed error's name, or the
 * error that was masked), with who, from where and the input without secrets. One wrapper around
 * each Mutation field, so no mutation can forget it. The audit row is written after the mutation,
 * outside its transaction: a refused or failed change is recorded too.
 */
export function withAuditLog(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  if (!mutation) return schema;
  for (const field of Object.values(mutation.getFields())) {
    const resolve = field.resolve as GraphQLFieldResolver<unknown, Context> | undefined;
    if (!resolve) continue;
    field.resolve = async (root, args, ctx, info) => {
      let outcome = 'ok';
      let result: unknown;
      try {
        result = await resolve(root, args, ctx, info);
        if (isError(result)) outcome = result.name;
        return result;
      } catch (error) {
        outcome = error instanceof GraphQLError ? ((error.extensions.code as string | undefined) ?? 'error') : error instanceof Error ? error.name : 'error';
        throw error;
      } finally {
        await audit(ctx, field.name, (args as { input?: Record<string, unknown> }).input ?? {}, result, outcome);
      }
    };
  }
  return schema;
}

/**
 * A typed error returned by the errors plugin: it comes wrapped in a proxy that `instanceof Error`
 * does not see through, so it is recognised by its shape (rows never carry a stack).
 */
function isError(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as Error).stack === 'string' && typeof (value as Error).message === 'string';
}

function pick(value: unknown, key: string): string | null {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : null;
}

async function audit(ctx: Context, action: string, input: Record<string, unknown>, result: unknown, outcome: string): Promise<void> {
  const p = ctx.access.principal;
  const target = isError(result) ? null : (pick(result, 'id') ?? pick(pick(result, 'apiKey') && (result as { apiKey: unknown }).apiKey, 'id') ?? pick(input, 'id'));
  const ok = !isError(result);
  const orgId = pick(input, 'orgId') ?? (ok ? pick(result, 'orgId') : null) ?? (action.endsWith('Org') ? (pick(input, 'id') ?? (ok ? pick(result, 'id') : null)) : null);
  try {
    await recordAudit(ctx.db, {
      actorUserId: p?.user.id ?? null,
      actorEmail: p?.user.email ?? null,
      actorKind: p?.kind ?? 'anonymous',
      tokenId: p?.kind === 'token' ? p.tokenId : null,
      orgId: orgId && isUuid(orgId) ? orgId : null,
      action,
      targetId: target,
      outcome,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent,
      details: auditDetails(input) as Record<string, unknown>,
    });
  } catch (error) {
    ctx.logger.error('writing the audit log failed', { action, error });
  }
}
