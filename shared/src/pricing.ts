import { USAGE_FIELDS, type Usage } from './canonical/usage.ts';
import { ceilDiv, MoneyFormatError, parseNanos, type Nanocredits } from './money.ts';

/** Nanocredits per image of one size (`1024x1024`, `auto`) and quality (`standard`, `hd`, `low`, ...). */
export interface ImagePrice {
  size: string;
  quality: string;
  price: Nanocredits;
}

/**
 * A price: nanocredits per million tokens for each usage bucket. Cached input, cache writes and
 * reasoning have their own rates; when a catalogue entry sets none they fall back to the input
 * (cached, write) or output (reasoning) rate, never to zero. Image models also price each image
 * by size and quality; a size and quality not listed is not sold (absent: no image is).
 */
export type Price = Record<keyof Usage, Nanocredits> & { images?: readonly ImagePrice[] };

export interface ImagePriceRecord {
  size: string;
  quality: string;
  price: string;
}

/** A price as it travels in snapshots: decimal strings of nanocredits (JSON has no bigint). */
export interface PriceRecord {
  input: string;
  output: string;
  cachedInput?: string;
  cacheWrite?: string;
  reasoning?: string;
  /** Absent in tables from before image prices, and for models that sell no images. */
  images?: ImagePriceRecord[];
}

/** Image prices one price may list: every size a provider offers times every quality, and room. */
export const MAX_IMAGE_PRICES = 64;
/** An image size: `WIDTHxHEIGHT` (GPT image models take any multiple of 16 up to 3840x2160) or `auto`. */
export const IMAGE_SIZE = /^(?:[1-9]\d{1,4}x[1-9]\d{1,4}|auto)$/;
/** Image qualities the Images API knows: DALL·E's standard and hd, the GPT image models' levels, auto. */
export const IMAGE_QUALITIES = ['standard', 'hd', 'low', 'medium', 'high', 'xhigh', 'max', 'auto'] as const;

const TOKENS_PER_PRICE_UNIT = 1_000_000n;

export const FREE: Readonly<Price> = Object.freeze({ input: 0n, cachedInput: 0n, cacheWrite: 0n, output: 0n, reasoning: 0n });

/**
 * The cost of a usage vector: computed once, from the whole vector, rounded up to the nanocredit.
 * Rounding the sum (not each bucket) keeps a request's cost within one nanocredit of exact.
 */
export function costOf(usage: Usage, price: Price): Nanocredits {
  let scaled = 0n;
  for (const field of USAGE_FIELDS) {
    const tokens = usage[field];
    if (!Number.isSafeInteger(tokens) || tokens < 0) throw new RangeError(`token count must be a non-negative integer, got ${tokens}`);
    // Most buckets are empty: no BigInt arithmetic for them (this runs several times per request).
    if (tokens !== 0) scaled += BigInt(tokens) * price[field];
  }
  return scaled === 0n ? 0n : ceilDiv(scaled, TOKENS_PER_PRICE_UNIT);
}

/** A fee in basis points (1/100 of a percent) of an amount, rounded up: 500 bps of 1001 is 51. */
export function feeOf(amount: Nanocredits, basisPoints: number): Nanocredits {
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0) throw new RangeError('basis points must be a non-negative integer');
  return ceilDiv(amount * BigInt(basisPoints), 10_000n);
}

/** A markup of 10000 basis points sells at cost; below it every request loses money. */
export const AT_COST_BPS = 10_000;
/** The largest markup the catalogue takes: cost × 100. */
export const MAX_MARKUP_BPS = 1_000_000;

/**
 * A sell price as a cost times a markup in basis points (12000 = cost × 1.2). Each rate (per
 * million tokens of a bucket, or per image) is rounded up to a whole nanocredit on its own, so the
 * marked-up price is an ordinary price: a request is then billed as always, the sum over its
 * buckets rounded up once (`costOf`). Billing therefore never falls below cost × markup.
 */
export function markupPrice(cost: Price, basisPoints: number): Price {
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0) throw new RangeError('basis points must be a non-negative integer');
  const bps = BigInt(basisPoints);
  const up = (rate: Nanocredits): Nanocredits => ceilDiv(rate * bps, 10_000n);
  const price: Price = { input: up(cost.input), cachedInput: up(cost.cachedInput), cacheWrite: up(cost.cacheWrite), output: up(cost.output), reasoning: up(cost.reasoning) };
  return cost.images === undefined ? price : { ...price, images: cost.images.map((i) => ({ size: i.size, quality: i.quality, price: up(i.price) })) };
}

/** Reads a snapshot price; throws MoneyFormatError on anything but non-negative integer strings. */
export function parsePrice(record: PriceRecord): Price {
  const read = (text: string | undefined, fallback: Nanocredits | null, name: string): Nanocredits => {
    if (text === undefined && fallback !== null) return fallback;
    if (typeof text !== 'string') throw new MoneyFormatError(`price field ${name} is missing`);
    const value = parseNanos(text);
    if (value < 0n) throw new MoneyFormatError(`price field ${name} is negative`);
    return value;
  };
  const input = read(record.input, null, 'input');
  const output = read(record.output, null, 'output');
  const price: Price = {
    input,
    output,
    cachedInput: read(record.cachedInput, input, 'cachedInput'),
    cacheWrite: read(record.cacheWrite, input, 'cacheWrite'),
    reasoning: read(record.reasoning, output, 'reasoning'),
  };
  return record.images === undefined ? price : { ...price, images: parseImagePrices(record.images) };
}

function parseImagePrices(records: readonly ImagePriceRecord[]): ImagePrice[] {
  if (!Array.isArray(records) || records.length > MAX_IMAGE_PRICES) throw new MoneyFormatError(`price field images must be a list of at most ${MAX_IMAGE_PRICES}`);
  const seen = new Set<string>();
  return records.map((r, i) => {
    if (typeof r?.size !== 'string' || typeof r.quality !== 'string' || r.size === '' || r.quality === '') throw new MoneyFormatError(`price field images[${i}] needs a size and a quality`);
    // Two prices for one size and quality would make the charge depend on their order.
    const key = `${r.size}\0${r.quality}`;
    if (seen.has(key)) throw new MoneyFormatError(`price field images prices ${r.size} ${r.quality} twice`);
    seen.add(key);
    if (typeof r.price !== 'string') throw new MoneyFormatError(`price field images[${i}].price is missing`);
    const price = parseNanos(r.price);
    if (price < 0n) throw new MoneyFormatError(`price field images[${i}].price is negative`);
    return { size: r.size, quality: r.quality, price };
  });
}

export function encodePrice(price: Price): PriceRecord {
  const record: PriceRecord = {
    input: price.input.toString(),
    output: price.output.toString(),
    cachedInput: price.cachedInput.toString(),
    cacheWrite: price.cacheWrite.toString(),
    reasoning: price.reasoning.toString(),
  };
  if (price.images !== undefined) record.images = price.images.map((i) => ({ size: i.size, quality: i.quality, price: i.price.toString() }));
  return record;
}

/** `auto`, like an absent value, leaves the choice to the provider. */
const AUTO = 'auto';

/**
 * The price of one image of a size and quality: its own entry when there is one. A size or quality
 * left to the provider (null or `auto`) takes the `auto` entry when one is listed, else the dearest
 * entry that fits the rest, since the provider may pick any of them. Null when nothing fits: such
 * images are not sold at this price.
 */
export function imagePriceOf(price: Price, size: string | null, quality: string | null): Nanocredits | null {
  const entries = price.images ?? [];
  const autoSize = entries.some((e) => e.size === AUTO);
  const autoQuality = entries.some((e) => e.quality === AUTO);
  const fits = (wanted: string | null, listed: string, autoListed: boolean): boolean =>
    (wanted ?? AUTO) === listed || ((wanted ?? AUTO) === AUTO && !autoListed);
  let found: Nanocredits | null = null;
  for (const e of entries) {
    if (!fits(size, e.size, autoSize) || !fits(quality, e.quality, autoQuality)) continue;
    if (found === null || e.price > found) found = e.price;
  }
  return found;
}
