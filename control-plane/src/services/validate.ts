import { isModelCapability, isProviderId, isTier, MAX_TOKEN_COUNT, MODEL_CAPABILITIES, TIERS, type ModelCapability, type OperatorTier, type ProviderId, type Tier } from '@tollgate/shared';
import { isUuid, NotFoundError, ValidationError } from '../errors.ts';

/**
 * Input checks, declared once for every service: each returns the normalised value or throws a
 * ValidationError naming the field. Messages describe the rule, never repeat a submitted secret.
 */
const CONTROL = /[\u0000-\u001f\u007f]/;

export function requiredText(value: string, field: string, max = 200): string {
  const text = value.trim();
  if (!text) throw new ValidationError(`${field} must not be empty`, field);
  if (text.length > max) throw new ValidationError(`${field} must be at most ${max} characters`, field);
  if (CONTROL.test(text)) throw new ValidationError(`${field} must not contain control characters`, field);
  return text;
}

/** A public model name: what clients write after an optional `tier/` prefix. */
export function modelName(value: string, field = 'name'): string {
  const name = requiredText(value, field);
  // A slash would be read as a `tier/` prefix; `auto` names the lane router.
  if (name.includes('/') || /\s/.test(name)) throw new ValidationError(`${field} must contain no "/" and no spaces`, field);
  if (name === 'auto' || name.startsWith('auto:')) throw new ValidationError(`${field} "auto" is reserved for plan lanes`, field);
  return name;
}

/** Capabilities, each once, in the catalogue's order. */
export function capabilityList(values: readonly string[], field = 'capabilities'): ModelCapability[] {
  for (const value of values) if (!isModelCapability(value)) throw new ValidationError(`${field} must list capabilities from ${MODEL_CAPABILITIES.join(', ')}`, field);
  return MODEL_CAPABILITIES.filter((c) => values.includes(c));
}

export function intInRange(value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ValidationError(`${field} must be an integer from ${min} to ${max}`, field);
  return value;
}

export function tokenCount(value: number, field: string, min = 0): number {
  return intInRange(value, field, min, MAX_TOKEN_COUNT);
}

export function provider(value: string, field = 'provider'): ProviderId {
  const id = value.trim();
  if (!isProviderId(id)) throw new ValidationError(`${field} must be a provider id from the providers query`, field);
  return id;
}

export function operatorTier(value: string, field = 'tier'): OperatorTier {
  if (value !== 'cheap' && value !== 'resale') throw new ValidationError(`${field} must be cheap or resale`, field);
  return value;
}

/** A tier restriction: null for none, else a non-empty set (kept in canonical order). */
export function tierList(values: readonly string[] | null | undefined, field: string): Tier[] | null {
  if (values === null || values === undefined) return null;
  for (const value of values) if (!isTier(value)) throw new ValidationError(`${field} must list tiers`, field);
  if (values.length === 0) throw new ValidationError(`${field} must name at least one tier; null allows all (to block a key, disable it)`, field);
  return TIERS.filter((t) => values.includes(t));
}

/** An id that names nothing is a missing record, not a malformed request. */
export function id(value: string, what: string): string {
  if (!isUuid(value)) throw new NotFoundError(`no ${what} with this id`);
  return value;
}

/** An http(s) URL without credentials, query or fragment, without a trailing slash. */
export function baseUrl(value: string, field = 'baseUrl'): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ValidationError(`${field} must be an http or https URL`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`${field} must be an http or https URL`, field);
  if (url.username || url.password) throw new ValidationError(`${field} must not carry credentials; use the credential`, field);
  if (url.search || url.hash) throw new ValidationError(`${field} must not have a query or fragment`, field);
  return url.toString().replace(/\/+$/, '');
}
