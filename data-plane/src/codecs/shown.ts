/**
 * A client's value to name in an error message: a short excerpt of a string, number or boolean,
 * else only its kind. Never `String(value)` on an object: a body like `{"toString": null}` makes
 * that throw, and a hostile body must get a 400, not a 500.
 */
export function shown(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(String(value).slice(0, 40));
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : `a value of type ${typeof value}`;
}
