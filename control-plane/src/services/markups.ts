import { AT_COST_BPS, MAX_MARKUP_BPS, type OperatorTier } from '@tollgate/shared';
import { asc, desc, lte } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { modelMarkups, type ModelMarkup } from '../db/schema/index.ts';
import { ConfirmationRequiredError, ConflictError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { findModel } from './models.ts';
import { findOrg } from './orgs.ts';
import { commitChange } from './unit-of-work.ts';
import { intInRange, operatorTier } from './validate.ts';

export interface SetModelMarkupInput {
  modelId: string;
  tier: string;
  /** The org this markup is for, overriding the model's; absent or null for every org. */
  orgId?: string | null | undefined;
  /** Basis points of the target's cost (12000 = cost × 1.2); null ends the scope's markup from `effectiveFrom`. */
  markupBps?: number | null | undefined;
  /** When it takes effect; absent for now. Never in the past: that would rewrite history. */
  effectiveFrom?: Date | null | undefined;
  /** A markup below 10000 (below cost) is refused with ConfirmationRequiredError unless confirmed. */
  confirm?: boolean | null | undefined;
}

/**
 * Adds a markup for a model on a tier, for every org or for one; earlier ones stay, so past
 * requests remain priced as they were (DESIGN.md, "Money"). See db/schema/model-markups.ts for
 * which price rules when.
 */
export async function setModelMarkup(ctx: ServiceContext, input: SetModelMarkupInput): Promise<ModelMarkup> {
  const model = await findModel(ctx.db, input.modelId);
  const tier: OperatorTier = operatorTier(input.tier);
  const org = input.orgId == null ? null : await findOrg(ctx, input.orgId);
  // Left out is a mistake, not a request to end the markup: that is an explicit null.
  if (input.markupBps === undefined) throw new ValidationError('markupBps is required: basis points of the cost, or null to end the markup', 'markupBps');
  const markupBps = input.markupBps === null ? null : intInRange(input.markupBps, 'markupBps', 0, MAX_MARKUP_BPS);
  if (markupBps !== null && markupBps < AT_COST_BPS && !input.confirm) {
    const whom = org ? ` for ${org.name}` : '';
    throw new ConfirmationRequiredError([
      `a markup of ${markupBps} bps sells ${model.name} on ${tier}${whom} at ${markupBps / 100}% of its cost: every request would lose money`,
    ]);
  }
  const now = new Date();
  const effectiveFrom = input.effectiveFrom ?? now;
  if (effectiveFrom.getTime() < now.getTime()) throw new ValidationError('effectiveFrom must not be in the past; omit it for now', 'effectiveFrom');
  try {
    return await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.insert(modelMarkups).values({ modelId: model.id, tier, orgId: org?.id ?? null, markupBps, effectiveFrom }).returning();
      publish({ kind: 'routes' });
      return row!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`${model.name} already has a ${tier} markup${org ? ` for ${org.name}` : ''} from this instant`);
    throw error;
  }
}

/** Per model: the markup in effect at `now` on each tier for every org, and each org's own. */
export interface MarkupsInEffect {
  markups: Partial<Record<OperatorTier, number>>;
  orgMarkups: Record<string, Partial<Record<OperatorTier, number>>>;
}

/** The latest markup not after `now` per model, tier and org; a null one (ended) leaves no entry. */
export async function markupsInEffect(db: Db, now: Date): Promise<Map<string, MarkupsInEffect>> {
  const rows = await db
    .selectDistinctOn([modelMarkups.modelId, modelMarkups.tier, modelMarkups.orgId])
    .from(modelMarkups)
    .where(lte(modelMarkups.effectiveFrom, now))
    .orderBy(asc(modelMarkups.modelId), asc(modelMarkups.tier), asc(modelMarkups.orgId), desc(modelMarkups.effectiveFrom));
  const out = new Map<string, MarkupsInEffect>();
  for (const r of rows) {
    if (r.markupBps === null) continue;
    let entry = out.get(r.modelId);
    if (!entry) out.set(r.modelId, (entry = { markups: {}, orgMarkups: {} }));
    if (r.orgId === null) entry.markups[r.tier] = r.markupBps;
    else (entry.orgMarkups[r.orgId] ??= {})[r.tier] = r.markupBps;
  }
  return out;
}

/** Markups in effect now, newest first per scope: those of rows sorted newest first. */
export function currentMarkups(rows: readonly ModelMarkup[], now = new Date()): ModelMarkup[] {
  const seen = new Set<string>();
  return rows.filter((m) => {
    if (m.effectiveFrom > now) return false;
    const scope = `${m.tier} ${m.orgId ?? ''}`;
    if (seen.has(scope)) return false;
    seen.add(scope);
    return m.markupBps !== null;
  });
}
