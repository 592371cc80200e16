import type { SourceJson } from '../canonical/chat.ts';

const encoder = new TextEncoder();

/** A body that may already be JSON: text or bytes (from `encodeWithSource`) as they are, an object serialised. */
export type JsonBody = Record<string, unknown> | string | Uint8Array;

export function jsonBody(body: JsonBody): string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
}

/**
 * A request body as JSON, with one member taken from the client's bytes when the adapter's own
 * rendering of it is the same JSON: a 200 KB prompt is then copied into the body, not encoded again
 * (JSON.stringify, then UTF-8). Otherwise, or without a source, the whole body is serialised.
 *
 * The member comes first in the result; key order means nothing in a JSON object.
 */
export function encodeWithSource(body: Record<string, unknown>, name: string, source: SourceJson | null | undefined): string | Uint8Array {
  if (!source || !Object.hasOwn(body, name) || !sameJson(body[name], source.value)) return JSON.stringify(body);
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(body)) if (key !== name) rest[key] = body[key];
  const tail = JSON.stringify(rest);
  const head = encoder.encode(`{${JSON.stringify(name)}:`);
  const end = encoder.encode(tail === '{}' ? '}' : `,${tail.slice(1)}`);
  const out = new Uint8Array(head.byteLength + source.bytes.byteLength + end.byteLength);
  out.set(head, 0);
  out.set(source.bytes, head.byteLength);
  out.set(end, head.byteLength + source.bytes.byteLength);
  return out;
}

/**
 * Whether two JSON values are equal as JSON: the same strings, numbers, booleans and nulls, arrays
 * in order, objects with the same keys in any order. A long text the adapter passed on unchanged is
 * the same string, so comparing it is a pointer check, not a walk over its characters. `undefined`,
 * which JSON cannot hold, equals nothing.
 */
export function sameJson(ours: unknown, theirs: unknown): boolean {
  if (ours === theirs) return ours !== undefined;
  if (typeof ours !== 'object' || typeof theirs !== 'object' || ours === null || theirs === null) return false;
  if (Array.isArray(ours)) {
    if (!Array.isArray(theirs) || ours.length !== theirs.length) return false;
    for (let i = 0; i < ours.length; i++) if (!sameJson(ours[i], theirs[i])) return false;
    return true;
  }
  if (Array.isArray(theirs)) return false;
  const a = ours as Record<string, unknown>;
  const b = theirs as Record<string, unknown>;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!Object.hasOwn(b, key) || !sameJson(a[key], b[key])) return false;
  return true;
}
