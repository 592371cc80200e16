import { GatewayError } from '@tollgate/shared';

/** Readers for one field of a client body: each returns the value narrowed or throws a 400 naming it. */
export type Fields = Record<string, unknown>;

export function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', message, param);
}

export function unsupported(message: string, param: string): GatewayError {
  return new GatewayError('unsupported_parameter', message, param);
}

export function object(value: unknown, param: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`"${param}" must be an object.`, param);
  return value as Fields;
}

export function optional<T>(value: unknown, read: (value: unknown) => T): T | null {
  return value === undefined || value === null ? null : read(value);
}

export function string(value: unknown, param: string, maxChars = Number.POSITIVE_INFINITY): string {
  if (typeof value !== 'string') throw invalid(`"${param}" must be a string.`, param);
  if (value.length > maxChars) throw invalid(`"${param}" must be at most ${maxChars} characters.`, param);
  return value;
}

export function boolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`"${param}" must be a boolean.`, param);
  return value;
}

export function number(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`"${param}" must be a number from ${min} to ${max}.`, param);
  }
  return value;
}

export function integer(value: unknown, param: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalid(`"${param}" must be an integer from ${min} to ${max}.`, param);
  }
  return value as number;
}

export function array(value: unknown, param: string, max: number, min = 0): unknown[] {
  if (!Array.isArray(value)) throw invalid(`"${param}" must be an array.`, param);
  if (value.length > max) throw invalid(`"${param}" may hold at most ${max} items.`, param);
  if (value.length < min) throw invalid(`"${param}" must hold at least ${min} item${min === 1 ? '' : 's'}.`, param);
  return value;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(value: unknown, param: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`"${param}" must be one of ${allowed.join(', ')}.`, param);
  return value as T;
}

export { shown } from './shown.ts';
