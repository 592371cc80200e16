import type { OperatorTier } from '@tollgate/shared';
import type { ModelMarkup } from '../db/schema/index.ts';
import { ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import type { Change, ConfigDocument } from './declarative.ts';
import { currentMarkups, setModelMarkup } from './markups.ts';

/** Basis points per tier; null ends the markup (apply only: an export lists those in effect). */
export type TierMarkups = Partial<Record<OperatorTier, number | null>>;

type Act = (change: Change, run: () => Promise<unknown>) => Promise<void>;

/**
 * The markups of `tollgate apply`: a model's `markups` (for every org) and `orgMarkups` (by org
 * slug), compared with those in effect; a different one becomes a new markup from now on, null
 * ends one in effect. Run after orgs, so an org the same document creates can be named.
 */
export async function applyMarkups(ctx: ServiceContext, doc: ConfigDocument, act: Act, options: { dryRun: boolean; confirm?: boolean }): Promise<void> {
  for (const [i, m] of (doc.models ?? []).entries()) {
    const scopes: { org: string | null; markups: TierMarkups; field: string }[] = [
      ...(m.markups ? [{ org: null, markups: m.markups, field: `models[${i}].markups` }] : []),
      ...Object.entries(m.orgMarkups ?? {}).map(([org, markups]) => ({ org, markups, field: `models[${i}].orgMarkups.${org}` })),
    ];
    if (scopes.length === 0) continue;
    const model = await ctx.db.query.models.findFirst({ where: { name: m.name }, with: { markups: { orderBy: { effectiveFrom: 'desc' } } } });
    const inEffect = model ? currentMarkups(model.markups) : [];
    for (const scope of scopes) {
      const org = scope.org === null ? null : await ctx.db.query.orgs.findFirst({ columns: { id: true }, where: { slug: scope.org } });
      if (scope.org !== null && !org && !options.dryRun) throw new ValidationError(`${scope.field}: no org with the slug "${scope.org}"`, scope.field);
      for (const [tier, wanted] of Object.entries(scope.markups) as [OperatorTier, number | null][]) {
        if (wanted !== null && typeof wanted !== 'number') throw new ValidationError(`${scope.field}.${tier} must be basis points or null`, `${scope.field}.${tier}`);
        const current = inEffect.find((x) => x.tier === tier && x.orgId === (org?.id ?? null))?.markupBps ?? null;
        if (current === wanted) continue;
        const name = `${m.name}/${tier}${scope.org === null ? '' : ` for ${scope.org}`}`;
        await act({ action: current === null ? 'create' : 'update', kind: 'markup', name, fields: current === null ? [] : ['markupBps'] }, async () =>
          setModelMarkup(ctx, { modelId: model!.id, tier, orgId: org?.id ?? null, markupBps: wanted, confirm: options.confirm ?? false }),
        );
      }
    }
  }
}

/** A model's markups in effect (of its rows, newest first), as the document lists them (org ids to slugs); empty ones left out. */
export function exportMarkups(rows: readonly ModelMarkup[], slugs: ReadonlyMap<string, string>): { markups?: TierMarkups; orgMarkups?: Record<string, TierMarkups> } {
  const markups: TierMarkups = {};
  const orgMarkups: Record<string, TierMarkups> = {};
  for (const r of currentMarkups(rows)) {
    if (r.orgId === null) markups[r.tier] = r.markupBps;
    else (orgMarkups[slugs.get(r.orgId) ?? r.orgId] ??= {})[r.tier] = r.markupBps;
  }
  return {
    ...(Object.keys(markups).length > 0 ? { markups } : {}),
    ...(Object.keys(orgMarkups).length > 0 ? { orgMarkups } : {}),
  };
}
