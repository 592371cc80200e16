import { formatCredits, parseCredits } from '@tollgate/shared';
import { ValidationError } from '../errors.ts';
import { limitChanges, metadataInput, NO_LIMIT_COLUMNS, type LimitColumns, type LimitsInput } from './limits.ts';

/**
 * Limits, metadata and an org's money settings in `tollgate apply`/`export` documents: the same
 * fields as GraphQL, credits as decimal strings. In a document, `limits` is the whole desired set
 * (a field left out has no limit), so applying an exported file changes nothing.
 */
export interface LimitsDoc {
  models?: string[];
  ipAllowlist?: string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrency?: number;
  lifetimeCreditLimit?: string;
  dailyCreditLimit?: string;
  weeklyCreditLimit?: string;
  monthlyCreditLimit?: string;
}

const CREDIT_FIELDS = [
  ['lifetimeCreditLimit', 'creditLifetime'],
  ['dailyCreditLimit', 'creditDay'],
  ['weeklyCreditLimit', 'creditWeek'],
  ['monthlyCreditLimit', 'creditMonth'],
] as const;

/** A row's limits as a document writes them; null when it has none. */
export function limitsDoc(row: LimitColumns): LimitsDoc | null {
  const doc: LimitsDoc = {};
  if (row.models !== null) doc.models = row.models;
  if (row.ipAllowlist !== null) doc.ipAllowlist = row.ipAllowlist;
  if (row.requestsPerMinute !== null) doc.requestsPerMinute = row.requestsPerMinute;
  if (row.tokensPerMinute !== null) doc.tokensPerMinute = row.tokensPerMinute;
  if (row.concurrency !== null) doc.concurrency = row.concurrency;
  for (const [name, column] of CREDIT_FIELDS) if (row[column] !== null) doc[name] = formatCredits(row[column]);
  return Object.keys(doc).length === 0 ? null : doc;
}

/** A document's limits as a complete input (every field set: left out means none). */
export function limitsFromDoc(doc: LimitsDoc | null, field: string): LimitsInput {
  if (doc === null) return limitsFromDoc({}, field);
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError(`${field} must be a mapping`, field);
  const credits = (value: unknown, name: string): bigint | null => {
    if (value === undefined || value === null) return null;
    try {
      return parseCredits(String(value));
    } catch (error) {
      throw new ValidationError(`${field}.${name}: ${(error as Error).message}`, `${field}.${name}`);
    }
  };
  const list = (value: unknown, name: string): string[] | null => {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ValidationError(`${field}.${name} must be a list of strings`, `${field}.${name}`);
    return value as string[];
  };
  const rate = (value: unknown, name: string): number | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number') throw new ValidationError(`${field}.${name} must be a number`, `${field}.${name}`);
    return value;
  };
  return {
    models: list(doc.models, 'models'),
    ipAllowlist: list(doc.ipAllowlist, 'ipAllowlist'),
    requestsPerMinute: rate(doc.requestsPerMinute, 'requestsPerMinute'),
    tokensPerMinute: rate(doc.tokensPerMinute, 'tokensPerMinute'),
    concurrency: rate(doc.concurrency, 'concurrency'),
    lifetimeCreditLimit: credits(doc.lifetimeCreditLimit, 'lifetimeCreditLimit'),
    dailyCreditLimit: credits(doc.dailyCreditLimit, 'dailyCreditLimit'),
    weeklyCreditLimit: credits(doc.weeklyCreditLimit, 'weeklyCreditLimit'),
    monthlyCreditLimit: credits(doc.monthlyCreditLimit, 'monthlyCreditLimit'),
  };
}

/** Whether a row already has the limits a document asks for (compared as they would be stored). */
export function sameLimits(row: LimitColumns, doc: LimitsDoc | null, field: string): boolean {
  const wanted = { ...NO_LIMIT_COLUMNS, ...limitChanges(limitsFromDoc(doc, field), field) };
  return (Object.keys(NO_LIMIT_COLUMNS) as (keyof LimitColumns)[]).every((k) => JSON.stringify(row[k], jsonBigint) === JSON.stringify(wanted[k], jsonBigint));
}

const jsonBigint = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** A document's metadata as the service takes it (a mapping of strings), null for none. */
export function metadataFromDoc(doc: Record<string, string> | null, field: string): { key: string; value: string }[] | null {
  if (doc === null) return null;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError(`${field} must be a mapping of strings`, field);
  return Object.entries(doc).map(([key, value]) => {
    if (typeof value !== 'string') throw new ValidationError(`${field}.${key} must be a string`, field);
    return { key, value };
  });
}

/** Whether a key already has the metadata a document asks for. */
export function sameMetadata(stored: Record<string, string> | null, doc: Record<string, string> | null, field: string): boolean {
  const wanted = metadataInput(metadataFromDoc(doc, field), field);
  const sorted = (m: Record<string, string> | null) => (m === null ? null : Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(sorted(stored)) === JSON.stringify(sorted(wanted));
}

/** Credits in a document (an org's overdraft, its low-balance threshold). */
export function creditsFromDoc(value: unknown, field: string): bigint | null {
  if (value === null || value === undefined) return null;
  try {
    return parseCredits(String(value));
  } catch (error) {
    throw new ValidationError(`${field}: ${(error as Error).message}`, field);
  }
}
