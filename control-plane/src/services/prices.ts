import type { PriceRecord } from '@tollgate/shared';
import { ValidationError } from '../errors.ts';

/**
 * A price as the services handle it: nanocredits per million tokens per usage bucket. The three
 * optional rates are null when the input (cached input, cache write) or output (reasoning) rate
 * applies (shared/src/pricing.ts).
 */
export interface PriceFields {
  input: bigint;
  output: bigint;
  cachedInput: bigint | null;
  cacheWrite: bigint | null;
  reasoning: bigint | null;
}

export interface PriceInput {
  input: bigint;
  output: bigint;
  cachedInput?: bigint | null | undefined;
  cacheWrite?: bigint | null | undefined;
  reasoning?: bigint | null | undefined;
}

export function priceFields(input: PriceInput, field: string): PriceFields {
  const price: PriceFields = {
    input: input.input,
    output: input.output,
    cachedInput: input.cachedInput ?? null,
    cacheWrite: input.cacheWrite ?? null,
    reasoning: input.reasoning ?? null,
  };
  for (const [name, value] of Object.entries(price)) {
    if (value !== null && value < 0n) throw new ValidationError(`${field}.${name} must not be negative`, `${field}.${name}`);
  }
  return price;
}

/** The snapshot form: decimal strings, optional rates left out so the data plane falls back. */
export function priceRecord(price: PriceFields): PriceRecord {
  const record: PriceRecord = { input: price.input.toString(), output: price.output.toString() };
  if (price.cachedInput !== null) record.cachedInput = price.cachedInput.toString();
  if (price.cacheWrite !== null) record.cacheWrite = price.cacheWrite.toString();
  if (price.reasoning !== null) record.reasoning = price.reasoning.toString();
  return record;
}

/** model_targets stores the operator's cost under `cost*` columns. */
export function costColumns(price: PriceFields) {
  return { costInput: price.input, costOutput: price.output, costCachedInput: price.cachedInput, costCacheWrite: price.cacheWrite, costReasoning: price.reasoning };
}

export function costOf(row: ReturnType<typeof costColumns>): PriceFields {
  return { input: row.costInput, output: row.costOutput, cachedInput: row.costCachedInput, cacheWrite: row.costCacheWrite, reasoning: row.costReasoning };
}

/** model_byok_targets stores the provider's list price under `list*` columns. */
export function listColumns(price: PriceFields) {
  return { listInput: price.input, listOutput: price.output, listCachedInput: price.cachedInput, listCacheWrite: price.cacheWrite, listReasoning: price.reasoning };
}

export function listOf(row: ReturnType<typeof listColumns>): PriceFields {
  return { input: row.listInput, output: row.listOutput, cachedInput: row.listCachedInput, cacheWrite: row.listCacheWrite, reasoning: row.listReasoning };
}
