import { isIP } from 'node:net';
import { isTier, type Limits } from '@tollgate/shared';
import type { ApiKey } from '../db/schema/index.ts';
import { ValidationError } from '../errors.ts';
import { modelName } from './validate.ts';

/**
 * Limits of a key and, as ceilings, of an org (shared's `Limits`, enforced by the data plane): the
 * input checks, declared once for both, and the conversion of their columns into what the key
 * record carries. Every field of an input left out keeps its value; null clears it.
 */

/** The limit columns a key and an org share (db/schema/limits.ts). */
export type LimitColumns = Pick<
  ApiKey,
  'models' | 'ipAllowlist' | 'requestsPerMinute' | 'tokensPerMinute' | 'concurrency' | 'creditLifetime' | 'creditDay' | 'creditWeek' | 'creditMonth'
>;

export interface LimitsInput {
  models?: readonly string[] | null | undefined;
  ipAllowlist?: readonly string[] | null | undefined;
  requestsPerMinute?: number | null | undefined;
  tokensPerMinute?: number | null | undefined;
  concurrency?: number | null | undefined;
  lifetimeCreditLimit?: bigint | null | undefined;
  dailyCreditLimit?: bigint | null | undefined;
  weeklyCreditLimit?: bigint | null | undefined;
  monthlyCreditLimit?: bigint | null | undefined;
}

export const NO_LIMIT_COLUMNS: LimitColumns = Object.freeze({
  models: null, ipAllowlist: null, requestsPerMinute: null, tokensPerMinute: null, concurrency: null,
  creditLifetime: null, creditDay: null, creditWeek: null, creditMonth: null,
});

const MAX_LIST = 100;
/** Counters are exact JavaScript numbers (the data plane's limits.ts): an amount past 2^53 could not be enforced. */
export const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_RATE = 2_147_483_647;

/** The column changes an input asks for, each checked; `limits: null` clears them all. */
export function limitChanges(input: LimitsInput | null | undefined, field = 'limits'): Partial<LimitColumns> {
  if (input === undefined) return {};
  if (input === null) return { ...NO_LIMIT_COLUMNS };
  const out: Partial<LimitColumns> = {};
  const rate = (value: number | null, name: string): number | null => {
    if (value === null) return null;
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_RATE) throw new ValidationError(`${field}.${name} must be an integer from 1 to ${MAX_RATE}; null for no limit`, `${field}.${name}`);
    return value;
  };
  if (input.models !== undefined) out.models = input.models === null ? null : modelList(input.models, `${field}.models`);
  if (input.ipAllowlist !== undefined) out.ipAllowlist = input.ipAllowlist === null ? null : addressList(input.ipAllowlist, `${field}.ipAllowlist`);
  if (input.requestsPerMinute !== undefined) out.requestsPerMinute = rate(input.requestsPerMinute, 'requestsPerMinute');
  if (input.tokensPerMinute !== undefined) out.tokensPerMinute = rate(input.tokensPerMinute, 'tokensPerMinute');
  if (input.concurrency !== undefined) out.concurrency = rate(input.concurrency, 'concurrency');
  if (input.lifetimeCreditLimit !== undefined) out.creditLifetime = optionalAmount(input.lifetimeCreditLimit, `${field}.lifetimeCreditLimit`);
  if (input.dailyCreditLimit !== undefined) out.creditDay = optionalAmount(input.dailyCreditLimit, `${field}.dailyCreditLimit`);
  if (input.weeklyCreditLimit !== undefined) out.creditWeek = optionalAmount(input.weeklyCreditLimit, `${field}.weeklyCreditLimit`);
  if (input.monthlyCreditLimit !== undefined) out.creditMonth = optionalAmount(input.monthlyCreditLimit, `${field}.monthlyCreditLimit`);
  return out;
}

/** An amount of nanocredits from 0 to 2^53 − 1 (a limit of 0 lets nothing be spent), or null. */
export function optionalAmount(value: bigint | null, field: string): bigint | null {
  if (value === null) return null;
  if (value < 0n || value > MAX_AMOUNT) throw new ValidationError(`${field} must be from 0 to 9007199.254740991 credits`, field);
  return value;
}

function list(values: readonly string[], field: string, check: (value: string) => string): string[] {
  if (values.length === 0) throw new ValidationError(`${field} must name at least one entry; null for no restriction (to block a key, disable it)`, field);
  if (values.length > MAX_LIST) throw new ValidationError(`${field} must have at most ${MAX_LIST} entries`, field);
  return [...new Set(values.map(check))];
}

/** Exact public names, `tier/name`, `tier/*` or `*` (what the data plane's modelAllowed reads). */
function modelList(values: readonly string[], field: string): string[] {
  return list(values, field, (value) => {
    const entry = value.trim();
    if (entry === '*') return entry;
    const slash = entry.indexOf('/');
    if (slash === -1) return modelName(entry, field);
    const tier = entry.slice(0, slash);
    const rest = entry.slice(slash + 1);
    if (!isTier(tier)) throw new ValidationError(`${field}: "${entry.slice(0, 100)}" must be a model name, tier/name, tier/* or *, with a tier of cheap, resale or byok`, field);
    return rest === '*' ? entry : `${tier}/${modelName(rest, field)}`;
  });
}

function addressList(values: readonly string[], field: string): string[] {
  return list(values, field, (value) => addressOrRange(value, field));
}

/**
 * An IPv4 or IPv6 address, or a CIDR range written as its network (no host bits set), with no zone
 * and no leading zeros in the prefix: strict, so what the operator reads is exactly what is enforced.
 */
export function addressOrRange(value: string, field: string): string {
  const entry = value.trim();
  const slash = entry.indexOf('/');
  const address = (slash === -1 ? entry : entry.slice(0, slash)).toLowerCase();
  const prefix = slash === -1 ? null : entry.slice(slash + 1);
  const family = isIP(address);
  const shown = entry.slice(0, 60);
  if (family === 0 || address.includes('%')) throw new ValidationError(`${field}: "${shown}" is not an IPv4 or IPv6 address or CIDR range`, field);
  if (prefix === null) return address;
  const width = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > width) throw new ValidationError(`${field}: "${shown}" needs a prefix length from 0 to ${width}`, field);
  const bits = Number(prefix);
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((addressValue(address, family) & hostMask) !== 0n) {
    throw new ValidationError(`${field}: "${shown}" has host bits set; write the range as its network address`, field);
  }
  return `${address}/${bits}`;
}

/** An address `isIP` accepted, as an integer. */
function addressValue(address: string, family: number): bigint {
  const v4 = (text: string) => text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  if (family === 4) return v4(address);
  let body = address;
  // A trailing dotted quad (::ffff:1.2.3.4) is the last two groups.
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    const value = v4(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = body.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? 0 : 8 - head.length - tail.length;
  return [...head, ...Array<string>(zeros).fill('0'), ...tail].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The limits a row's columns describe, as the key record carries them. */
export function limitsOf(row: LimitColumns): Limits {
  const amount = (value: bigint | null) => (value === null ? null : value.toString());
  return {
    models: row.models,
    ipAllowlist: row.ipAllowlist,
    requestsPerMinute: row.requestsPerMinute,
    tokensPerMinute: row.tokensPerMinute,
    concurrency: row.concurrency,
    credit: { lifetime: amount(row.creditLifetime), day: amount(row.creditDay), week: amount(row.creditWeek), month: amount(row.creditMonth) },
  };
}

/** Whether any limit is set (a record without any leaves them out: no limits). */
export function hasLimits(limits: Limits): boolean {
  const { credit, ...rest } = limits;
  return Object.values(rest).some((v) => v !== null) || Object.values(credit).some((v) => v !== null);
}

const MAX_METADATA = 32;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A key's labels: at most 32 distinct keys of 1 to 64 characters, values up to 512; none is null. */
export function metadataInput(entries: readonly { key: string; value: string }[] | null, field = 'metadata'): Record<string, string> | null {
  if (entries === null || entries.length === 0) return null;
  if (entries.length > MAX_METADATA) throw new ValidationError(`${field} must have at most ${MAX_METADATA} entries`, field);
  const out = new Map<string, string>();
  for (const { key, value } of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_KEY || CONTROL.test(key)) {
      throw new ValidationError(`${field} keys must be 1 to ${MAX_METADATA_KEY} characters without control characters`, field);
    }
    if (value.length > MAX_METADATA_VALUE) throw new ValidationError(`${field} values must be at most ${MAX_METADATA_VALUE} characters`, field);
    if (out.has(key)) throw new ValidationError(`${field} names the key "${key}" twice`, field);
    out.set(key, value);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays a label.
  return Object.fromEntries(out);
}
