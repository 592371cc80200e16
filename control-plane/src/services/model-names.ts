import { arrayOverlaps, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { models } from '../db/schema/index.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { modelName } from './validate.ts';

/** Aliases one model may have: a few spellings and older names, not a second catalogue. */
export const MAX_ALIASES = 32;

/** A model's aliases, checked: each a valid model name, none twice, none its own name. */
export function aliasList(values: readonly string[], name: string, field = 'aliases'): string[] {
  if (values.length > MAX_ALIASES) throw new ValidationError(`${field} may list at most ${MAX_ALIASES} names`, field);
  const aliases = values.map((v, i) => modelName(v, `${field}[${i}]`));
  if (new Set(aliases).size !== aliases.length) throw new ValidationError(`${field} names an alias twice`, field);
  if (aliases.includes(name)) throw new ValidationError(`${field}: "${name}" is the model's own name`, field);
  return aliases;
}

/**
 * Refuses (ConflictError) a name or alias that another model already uses as its name or alias,
 * so the data plane resolves every public name to exactly one model. No index can enforce that
 * across a column and an array, so writers of names take one transaction-scoped lock and check
 * here, in the transaction that writes them.
 */
export async function assertNamesFree(tx: Db, names: readonly string[], exceptModelId: string | null): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('tollgate:model-names'))`);
  if (names.length === 0) return;
  const list = [...names];
  const taken = await tx
    .select({ id: models.id, name: models.name, aliases: models.aliases })
    .from(models)
    .where(or(inArray(models.name, list), arrayOverlaps(models.aliases, list)));
  for (const other of taken) {
    if (other.id === exceptModelId) continue;
    if (list.includes(other.name)) throw new ConflictError(`a model named "${other.name}" already exists`);
    const alias = other.aliases.find((a) => list.includes(a))!;
    throw new ConflictError(`"${alias}" is already an alias of model "${other.name}"`);
  }
}
