/**
 * Money is integer nanocredits (1 credit = 1 USD = 1e9 nanocredits), as bigint in TypeScript,
 * decimal strings on the wire and in Redis. No floats anywhere money moves.
 */
export type Nanocredits = bigint;

export const NANOS_PER_CREDIT = 1_000_000_000n;
/** Amounts live in Postgres bigint and Redis integers: signed 64-bit. */
export const MAX_NANOCREDITS = 2n ** 63n - 1n;
const CREDITS_PATTERN = /^(-)?(\d{1,18})(?:\.(\d{1,9}))?$/;

export class MoneyFormatError extends Error {
  override name = 'MoneyFormatError';
}

/** Integer division rounding towards +infinity, for non-negative numerators. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new RangeError('ceilDiv expects numerator >= 0 and denominator > 0');
  return (numerator + denominator - 1n) / denominator;
}

/** Parses a decimal amount of credits ("12.5", "-0.000000001") into nanocredits, exactly. */
export function parseCredits(text: string): Nanocredits {
  const match = CREDITS_PATTERN.exec(text.trim());
  if (!match) {
    throw new MoneyFormatError(
      `"${text}" is not an amount of credits: use a decimal number with at most 9 decimal places, like "12.50"`,
    );
  }
  const [, sign, whole = '0', fraction = ''] = match;
  const nanos = BigInt(whole) * NANOS_PER_CREDIT + BigInt(fraction.padEnd(9, '0'));
  if (nanos > MAX_NANOCREDITS) {
    throw new MoneyFormatError(`"${text}" is too large: amounts are limited to ${formatCredits(MAX_NANOCREDITS)} credits`);
  }
  return sign ? -nanos : nanos;
}

/** Formats nanocredits as an exact decimal amount of credits, without trailing zeros ("12.5", "0"). */
export function formatCredits(nanos: Nanocredits): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const whole = abs / NANOS_PER_CREDIT;
  const fraction = (abs % NANOS_PER_CREDIT).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Parses the canonical decimal-string encoding used in Redis and JSON snapshots. */
export function parseNanos(text: string): Nanocredits {
  if (!/^-?\d{1,20}$/.test(text)) throw new MoneyFormatError(`"${text}" is not an integer amount of nanocredits`);
  return BigInt(text);
}
