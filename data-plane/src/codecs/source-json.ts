import { isUtf8 } from 'node:buffer';
import type { SourceJson } from '@tollgate/shared';

/**
 * Bodies from this size on keep their long member's bytes (see `sourceMember`). Below it,
 * re-serialising costs less than walking the body to find them.
 */
export const SOURCE_MIN_BYTES = 16 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** `sourceMember` for a body of SOURCE_MIN_BYTES or more; null for a shorter one. */
export function longBodyMember(raw: Buffer, parsed: Record<string, unknown>, name: string): SourceJson | null {
  return raw.byteLength >= SOURCE_MIN_BYTES ? sourceMember(raw, parsed, name) : null;
}

/**
 * A top-level member of a request body as the client sent it: the value JSON.parse read
 * (`parsed[name]`) and its exact bytes in `raw`, so an adapter whose own rendering of that member
 * is the same JSON can forward the bytes instead of encoding a long prompt again.
 *
 * Null, and the body is re-serialised as usual, whenever forwarding the bytes could make a provider
 * read something other than what the gateway read and metered:
 * - the member appears more than once (JSON.parse keeps the last one; other parsers may not);
 * - an object inside it repeats a key, for the same reason at any depth;
 * - its bytes are not valid UTF-8 (the gateway read U+FFFD where the provider would get the bytes).
 *
 * `raw` must be a body JSON.parse has accepted as an object: the walk relies on it being valid JSON
 * and checks only what it needs.
 */
export function sourceMember(raw: Buffer, parsed: Record<string, unknown>, name: string): SourceJson | null {
  let at = space(raw, 0);
  if (raw[at] !== OPEN_OBJECT) return null;
  at = space(raw, at + 1);
  let found: { start: number; end: number } | null = null;
  let occurrences = 0;
  while (raw[at] !== CLOSE_OBJECT) {
    const keyEnd = stringEnd(raw, at);
    const key = stringAt(raw, at, keyEnd);
    at = space(raw, keyEnd);
    at = space(raw, at + 1); // the colon
    const start = at;
    const end = valueEnd(raw, start, key === name);
    if (end === null) return null;
    if (key === name) {
      occurrences++;
      found = { start, end };
    }
    at = space(raw, end);
    if (raw[at] === COMMA) at = space(raw, at + 1);
  }
  if (found === null || occurrences !== 1) return null;
  const bytes = raw.subarray(found.start, found.end);
  return isUtf8(bytes) ? { value: parsed[name], bytes } : null;
}

function space(raw: Buffer, at: number): number {
  for (let c = raw[at]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = raw[++at]);
  return at;
}

/** The index past the string whose opening quote is at `start`: quotes are found natively, escapes by the backslashes before them. */
function stringEnd(raw: Buffer, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = raw.indexOf(QUOTE, from);
    if (quote === -1) throw new SyntaxError('unterminated string in a body JSON.parse accepted');
    let backslashes = 0;
    for (let b = quote - 1; raw[b] === BACKSLASH; b--) backslashes++;
    if ((backslashes & 1) === 0) return quote + 1;
    from = quote + 1;
  }
}

/** A string's value: its bytes when it has no escape, else JSON's reading of it. */
function stringAt(raw: Buffer, start: number, end: number): string {
  const inner = raw.subarray(start + 1, end - 1);
  return inner.includes(BACKSLASH) ? (JSON.parse(raw.toString('utf8', start, end)) as string) : inner.toString('utf8');
}

/**
 * The index past the value that starts at `start`; with `checkKeys`, null when an object within it
 * repeats a key. Iterative: a deeply nested body (JSON.parse allows it) cannot overflow the stack.
 */
function valueEnd(raw: Buffer, start: number, checkKeys: boolean): number | null {
  // One entry per open container: an object's keys so far (when checked), else null.
  const open: (Set<string> | null)[] = [];
  let at = start;
  do {
    at = space(raw, at);
    const c = raw[at]!;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      open.push(c === OPEN_OBJECT && checkKeys ? new Set() : null);
      at++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      at++;
    } else if (c === COMMA) {
      at++;
    } else if (c === QUOTE) {
      const end = stringEnd(raw, at);
      const keys = open.length > 0 ? open[open.length - 1] : null;
      const next = space(raw, end);
      if (raw[next] === COLON) {
        if (keys) {
          const key = stringAt(raw, at, end);
          if (keys.has(key)) return null;
          keys.add(key);
        }
        at = next + 1;
      } else {
        at = end;
      }
    } else {
      // A number, true, false or null: up to the next delimiter.
      while (at < raw.length && !isDelimiter(raw[at]!)) at++;
    }
  } while (open.length > 0);
  return at;
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
