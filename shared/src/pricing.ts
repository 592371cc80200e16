import { USAGE_FIELDS, type Usage } from './canonical/usage.ts';
import { ceilDiv, MoneyFormatError, parseNanos, type Nanocredits } from './money.ts';

/**
 * A price: nanocredits per million tokens for each usage bucket. Cached input, cache writes and
 * reasoning have their own rates; when a catalogue entry sets none they fall back to the input
 * (cached, write) or output (reasoning) rate, never to zero.
 */
export type Price = Record<keyof Usage, Nanocredits>;

/** A price as it travels in snapshots: decimal strings of nanocredits (JSON has no bigint). */
export interface PriceRecord {
  input: string;
  output: string;
  cachedInput?: string;
  cacheWrite?: string;
  reasoning?: string;
}

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
    scaled += BigInt(tokens) * price[field];
  }
  return ceilDiv(scaled, TOKENS_PER_PRICE_UNIT);
}

/** A fee in basis points (1/100 of a percent) of an amount, rounded up: 500 bps of 1001 is 51. */
export function feeOf(amount: Nanocredits, basisPoints: number): Nanocredits {
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0) throw new RangeError('basis points must be a non-negative integer');
  return ceilDiv(amount * BigInt(basisPoints), 10_000n);
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
  return {
    input,
    output,
    cachedInput: read(record.cachedInput, input, 'cachedInput'),
    cacheWrite: read(record.cacheWrite, input, 'cacheWrite'),
    reasoning: read(record.reasoning, output, 'reasoning'),
  };
}

export function encodePrice(price: Price): PriceRecord {
  return {
    input: price.input.toString(),
    output: price.output.toString(),
    cachedInput: price.cachedInput.toString(),
    cacheWrite: price.cacheWrite.toString(),
    reasoning: price.reasoning.toString(),
  };
}
