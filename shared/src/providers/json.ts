/**
 * Narrowing helpers for provider JSON, read as `unknown` field by field: an upstream that sends
 * `null`, `"choices": 5` or `[null]` must yield "nothing here", never a TypeError (in the stream
 * path that would be thrown from an event listener).
 */
export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : null;
}

export function field(value: unknown, name: string): unknown {
  return asRecord(value)?.[name];
}

export function stringField(value: unknown, name: string): string | null {
  const found = field(value, name);
  return typeof found === 'string' ? found : null;
}

export function numberField(value: unknown, name: string): number | null {
  const found = field(value, name);
  return typeof found === 'number' && Number.isFinite(found) ? found : null;
}

export function arrayField(value: unknown, name: string): unknown[] {
  const found = field(value, name);
  return Array.isArray(found) ? found : [];
}

/** A choice or tool-call index: a small non-negative integer, else null. */
export function indexField(value: unknown, name: string, max: number): number | null {
  const found = numberField(value, name);
  return found !== null && Number.isInteger(found) && found >= 0 && found < max ? found : null;
}

/** A creation time in whole Unix seconds, never negative; the gateway's clock when it is missing. */
export function secondsField(value: unknown, name: string): number {
  return Math.max(0, Math.floor(numberField(value, name) ?? Date.now() / 1000));
}
