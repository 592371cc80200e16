import { IMAGE_QUALITIES, IMAGE_SIZE, MAX_IMAGE_PRICES, type ImagePrice, type PriceRecord } from '@tollgate/shared';
import { ValidationError } from '../errors.ts';

/**
 * A price as the services handle it: nanocredits per million tokens per usage bucket. The three
 * optional rates are null when the input (cached input, cache write) or output (reasoning) rate
 * applies (shared/src/pricing.ts). Image models also price each image by size and quality; null
 * sells no images.
 */
export interface PriceFields {
  input: bigint;
  output: bigint;
  cachedInput: bigint | null;
  cacheWrite: bigint | null;
  reasoning: bigint | null;
  imagePrices: ImagePrice[] | null;
}

export interface PriceInput {
  input: bigint;
  output: bigint;
  cachedInput?: bigint | null | undefined;
  cacheWrite?: bigint | null | undefined;
  reasoning?: bigint | null | undefined;
  imagePrices?: readonly ImagePrice[] | null | undefined;
}

/** A list of image prices, checked: known sizes and qualities, each pair once, none negative. */
function imagePriceList(list: readonly ImagePrice[], field: string): ImagePrice[] | null {
  if (list.length > MAX_IMAGE_PRICES) throw new ValidationError(`${field} may list at most ${MAX_IMAGE_PRICES} prices`, field);
  const seen = new Set<string>();
  for (const [i, p] of list.entries()) {
    const at = `${field}[${i}]`;
    if (!IMAGE_SIZE.test(p.size)) throw new ValidationError(`${at}.size must be WIDTHxHEIGHT (e.g. 1024x1024) or auto`, `${at}.size`);
    if (!(IMAGE_QUALITIES as readonly string[]).includes(p.quality)) throw new ValidationError(`${at}.quality must be one of ${IMAGE_QUALITIES.join(', ')}`, `${at}.quality`);
    if (p.price < 0n) throw new ValidationError(`${at}.price must not be negative`, `${at}.price`);
    // Two prices for one size and quality would make the charge depend on their order.
    if (seen.has(`${p.size} ${p.quality}`)) throw new ValidationError(`${field} prices ${p.size} ${p.quality} twice`, field);
    seen.add(`${p.size} ${p.quality}`);
  }
  return list.length === 0 ? null : list.map((p) => ({ size: p.size, quality: p.quality, price: p.price }));
}

export function priceFields(input: PriceInput, field: string): PriceFields {
  const price: PriceFields = {
    input: input.input,
    output: input.output,
    cachedInput: input.cachedInput ?? null,
    cacheWrite: input.cacheWrite ?? null,
    reasoning: input.reasoning ?? null,
    imagePrices: input.imagePrices == null ? null : imagePriceList(input.imagePrices, `${field}.imagePrices`),
  };
  for (const name of ['input', 'output', 'cachedInput', 'cacheWrite', 'reasoning'] as const) {
    const value = price[name];
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
  if (price.imagePrices !== null) record.images = price.imagePrices.map((p) => ({ size: p.size, quality: p.quality, price: p.price.toString() }));
  return record;
}

/** model_targets stores the operator's cost under `cost*` columns. */
export function costColumns(price: PriceFields) {
  return {
    costInput: price.input, costOutput: price.output, costCachedInput: price.cachedInput, costCacheWrite: price.cacheWrite, costReasoning: price.reasoning,
    costImagePrices: price.imagePrices,
  };
}

export function costOf(row: ReturnType<typeof costColumns>): PriceFields {
  return {
    input: row.costInput, output: row.costOutput, cachedInput: row.costCachedInput, cacheWrite: row.costCacheWrite, reasoning: row.costReasoning,
    imagePrices: row.costImagePrices,
  };
}

/** model_byok_targets stores the provider's list price under `list*` columns. */
export function listColumns(price: PriceFields) {
  return {
    listInput: price.input, listOutput: price.output, listCachedInput: price.cachedInput, listCacheWrite: price.cacheWrite, listReasoning: price.reasoning,
    listImagePrices: price.imagePrices,
  };
}

export function listOf(row: ReturnType<typeof listColumns>): PriceFields {
  return {
    input: row.listInput, output: row.listOutput, cachedInput: row.listCachedInput, cacheWrite: row.listCacheWrite, reasoning: row.listReasoning,
    imagePrices: row.listImagePrices,
  };
}
