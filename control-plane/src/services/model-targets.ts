import { eq } from 'drizzle-orm';
import { isUniqueViolation } from '../db/errors.ts';
import { modelTargets, type ModelTarget } from '../db/schema/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import { assertChannelsExist, findModel, MAX_PRIORITY, MAX_WEIGHT, targetValues, type TargetInput } from './models.ts';
import { costColumns, priceFields, type PriceInput } from './prices.ts';
import { commitChange } from './unit-of-work.ts';
import { id as idInput, intInRange, requiredText } from './validate.ts';

// A model's operator targets: added, changed and removed one at a time.

function duplicate(error: unknown): never {
  if (isUniqueViolation(error)) throw new ConflictError('the model already targets this upstream model on this channel');
  throw error;
}

export async function addModelTarget(ctx: ServiceContext, input: TargetInput & { modelId: string }): Promise<ModelTarget> {
  const model = await findModel(ctx.db, input.modelId);
  const values = targetValues(input, 'target');
  await assertChannelsExist(ctx.db, [values.channelId]);
  let target: ModelTarget;
  try {
    target = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.insert(modelTargets).values({ ...values, modelId: model.id }).returning();
      publish({ kind: 'routes' });
      return row!;
    });
  } catch (error) {
    duplicate(error);
  }
  return target;
}

export interface UpdateModelTargetInput {
  id: string;
  channelId?: string | null | undefined;
  upstreamModel?: string | null | undefined;
  priority?: number | null | undefined;
  weight?: number | null | undefined;
  cost?: PriceInput | null | undefined;
}

export async function updateModelTarget(ctx: ServiceContext, input: UpdateModelTargetInput): Promise<ModelTarget> {
  const targetId = idInput(input.id, 'target');
  const changes = {
    ...(input.channelId != null ? { channelId: idInput(input.channelId, 'channel') } : {}),
    ...(input.upstreamModel != null ? { upstreamModel: requiredText(input.upstreamModel, 'upstreamModel') } : {}),
    ...(input.priority != null ? { priority: intInRange(input.priority, 'priority', 0, MAX_PRIORITY) } : {}),
    ...(input.weight != null ? { weight: intInRange(input.weight, 'weight', 1, MAX_WEIGHT) } : {}),
    ...(input.cost != null ? costColumns(priceFields(input.cost, 'cost')) : {}),
  };
  const existing = await ctx.db.query.modelTargets.findFirst({ where: { id: targetId } });
  if (!existing) throw new NotFoundError('no target with this id');
  if (changes.channelId) await assertChannelsExist(ctx.db, [changes.channelId]);
  if (Object.keys(changes).length === 0) return existing;
  let target: ModelTarget | undefined;
  try {
    target = await commitChange(ctx, async (tx, publish) => {
      const [row] = await tx.update(modelTargets).set(changes).where(eq(modelTargets.id, targetId)).returning();
      publish({ kind: 'routes' });
      return row;
    });
  } catch (error) {
    duplicate(error);
  }
  if (!target) throw new NotFoundError('no target with this id');
  return target;
}

export async function removeModelTarget(ctx: ServiceContext, id: string): Promise<ModelTarget> {
  const target = await commitChange(ctx, async (tx, publish) => {
    const [row] = await tx
      .delete(modelTargets)
      .where(eq(modelTargets.id, idInput(id, 'target')))
      .returning();
    publish({ kind: 'routes' });
    return row;
  });
  if (!target) throw new NotFoundError('no target with this id');
  return target;
}
