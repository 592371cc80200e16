import { isTier, type Tier } from '@tollgate/shared';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { isUniqueViolation, sqlState } from '../db/errors.ts';
import { orgs, plans, type Org, type Plan, type PlanWindow } from '../db/schema/index.ts';
import { ConflictError, InUseError, NotFoundError, ValidationError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput, intInRange, requiredText, tokenCount } from './validate.ts';

/**
 * Flat-fee plans (DESIGN.md, "Routing model"): `auto` lanes and fair use. Plans travel in the
 * route table; an org's plan travels in its keys' records.
 */
export interface LaneInput {
  /** A model's public name. */
  model: string;
  tier: string;
}

export interface PlanFieldsInput {
  name?: string | null | undefined;
  window?: string | null | undefined;
  premiumAllowanceTokens?: number | null | undefined;
  /** null: no cap. */
  concurrency?: number | null | undefined;
  continuationAllowed?: boolean | null | undefined;
  fallbackAllowed?: boolean | null | undefined;
  premiumLane?: LaneInput | null | undefined;
  /** null removes the lane. */
  continuationLane?: LaneInput | null | undefined;
  fallbackLane?: LaneInput | null | undefined;
}

export interface CreatePlanInput extends PlanFieldsInput {
  name: string;
  window: string;
  premiumAllowanceTokens: number;
  continuationAllowed: boolean;
  fallbackAllowed: boolean;
  premiumLane: LaneInput;
}

const MAX_PLAN_CONCURRENCY = 1_000_000;

function planWindow(value: string): PlanWindow {
  if (value !== 'day' && value !== 'week' && value !== 'month') throw new ValidationError('window must be day, week or month', 'window');
  return value;
}

async function lane(db: Db, input: LaneInput, field: string): Promise<{ modelId: string; tier: Tier }> {
  if (!isTier(input.tier)) throw new ValidationError(`${field}.tier must be a tier`, `${field}.tier`);
  const name = requiredText(input.model, `${field}.model`);
  const model = await db.query.models.findFirst({ columns: { id: true }, where: { name } });
  if (!model) throw new NotFoundError(`${field}: no model named "${name}"`);
  return { modelId: model.id, tier: input.tier };
}

/** The row values for a plan, merging `input` over `current` (null for a new plan). */
async function planValues(db: Db, input: PlanFieldsInput, current: Plan | null) {
  const values = {
    name: input.name != null ? requiredText(input.name, 'name', 100) : current!.name,
    window: input.window != null ? planWindow(input.window) : current!.window,
    premiumAllowanceTokens: input.premiumAllowanceTokens != null ? tokenCount(input.premiumAllowanceTokens, 'premiumAllowanceTokens') : current!.premiumAllowanceTokens,
    concurrency:
      input.concurrency === undefined ? (current?.concurrency ?? null) : input.concurrency === null ? null : intInRange(input.concurrency, 'concurrency', 1, MAX_PLAN_CONCURRENCY),
    continuationAllowed: input.continuationAllowed ?? current!.continuationAllowed,
    fallbackAllowed: input.fallbackAllowed ?? current!.fallbackAllowed,
    premiumModelId: current?.premiumModelId as string,
    premiumTier: current?.premiumTier as Tier,
    continuationModelId: current?.continuationModelId ?? null,
    continuationTier: current?.continuationTier ?? null,
    fallbackModelId: current?.fallbackModelId ?? null,
    fallbackTier: current?.fallbackTier ?? null,
  };
  if (input.premiumLane != null) {
    const premium = await lane(db, input.premiumLane, 'premiumLane');
    values.premiumModelId = premium.modelId;
    values.premiumTier = premium.tier;
  }
  if (input.continuationLane !== undefined) {
    const continuation = input.continuationLane === null ? null : await lane(db, input.continuationLane, 'continuationLane');
    values.continuationModelId = continuation?.modelId ?? null;
    values.continuationTier = continuation?.tier ?? null;
  }
  if (input.fallbackLane !== undefined) {
    const fallback = input.fallbackLane === null ? null : await lane(db, input.fallbackLane, 'fallbackLane');
    values.fallbackModelId = fallback?.modelId ?? null;
    values.fallbackTier = fallback?.tier ?? null;
  }
  // A permission without its lane could never be used: say so now rather than at request time.
  if (values.continuationAllowed && values.continuationModelId === null) throw new ValidationError('continuationAllowed needs a continuationLane', 'continuationLane');
  if (values.fallbackAllowed && values.fallbackModelId === null) throw new ValidationError('fallbackAllowed needs a fallbackLane', 'fallbackLane');
  return values;
}

function nameTaken(error: unknown, name: string): never {
  if (isUniqueViolation(error)) throw new ConflictError(`a plan named "${name}" already exists`);
  throw error;
}

export async function findPlan(db: Db, id: string): Promise<Plan> {
  const plan = await db.query.plans.findFirst({ where: { id: idInput(id, 'plan') } });
  if (!plan) throw new NotFoundError('no plan with this id');
  return plan;
}

export async function createPlan(ctx: ServiceContext, input: CreatePlanInput): Promise<Plan> {
  const values = await planValues(ctx.db, input, null);
  let plan: Plan;
  try {
    plan = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.insert(plans).values(values).returning();
      publish({ kind: 'routes' });
      return row!;
    });
  } catch (error) {
    nameTaken(error, values.name);
  }
  return plan;
}

export async function updatePlan(ctx: ServiceContext, input: PlanFieldsInput & { id: string }): Promise<Plan> {
  const current = await findPlan(ctx.db, input.id);
  const values = await planValues(ctx.db, input, current);
  let plan: Plan | undefined;
  try {
    plan = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.update(plans).set(values).where(eq(plans.id, current.id)).returning();
      publish({ kind: 'routes' });
      return row;
    });
  } catch (error) {
    nameTaken(error, values.name);
  }
  if (!plan) throw new NotFoundError('no plan with this id');
  return plan;
}

async function orgsOnPlan(db: Db, planId: string): Promise<string[]> {
  const rows = await db.select({ name: orgs.name }).from(orgs).where(eq(orgs.planId, planId)).orderBy(asc(orgs.name));
  return rows.map((r) => r.name);
}

function inUse(plan: Plan, usedBy: string[]): InUseError {
  return new InUseError(`plan "${plan.name}" is the plan of ${usedBy.map((o) => `"${o}"`).join(', ')}: move those orgs to another plan first`, usedBy);
}

/** Deletes a plan no org is on; one in use is refused, naming the orgs. */
export async function deletePlan(ctx: ServiceContext, id: string): Promise<Plan> {
  const plan = await findPlan(ctx.db, id);
  const usedBy = await orgsOnPlan(ctx.db, plan.id);
  if (usedBy.length > 0) throw inUse(plan, usedBy);
  try {
    await commitChange(ctx, async (tx, publish) => {
      await tx.delete(plans).where(eq(plans.id, plan.id));
      publish({ kind: 'routes' });
    });
  } catch (error) {
    if (sqlState(error) === '23503') throw inUse(plan, await orgsOnPlan(ctx.db, plan.id));
    throw error;
  }
  return plan;
}

/** Puts an org on a plan, or with null takes it off any plan. */
export async function setOrgPlan(ctx: ServiceContext, orgId: string, planId: string | null): Promise<Org> {
  const plan = planId === null ? null : await findPlan(ctx.db, planId);
  let org: Org | undefined;
  try {
    org = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx
        .update(orgs)
        .set({ planId: plan?.id ?? null })
        .where(eq(orgs.id, idInput(orgId, 'org')))
        .returning();
      if (row) publish({ kind: 'org_keys', orgId: row.id });
      return row;
    });
  } catch (error) {
    // The plan was deleted since we looked it up.
    if (sqlState(error) === '23503') throw new NotFoundError('no plan with this id');
    throw error;
  }
  if (!org) throw new NotFoundError('no org with this id');
  return org;
}
