import { describe, expect, it } from 'vitest';
import type { SourceJson } from '../canonical/chat.ts';
import { encodeWithSource, sameJson } from './source-body.ts';

const encoder = new TextEncoder();

/** A source as a codec keeps it: what JSON.parse read from `text`, and `text`'s bytes. */
function source(text: string): SourceJson {
  return { value: JSON.parse(text), bytes: encoder.encode(text) };
}

const asText = (encoded: string | Uint8Array): string => (typeof encoded === 'string' ? encoded : new TextDecoder().decode(encoded));

describe('sameJson', () => {
  it('is JSON equality: key order aside, every value the same', () => {
    expect(sameJson({ a: 1, b: [true, null, 'x', { c: 'd' }] }, { b: [true, null, 'x', { c: 'd' }], a: 1 })).toBe(true);
    expect(sameJson([], [])).toBe(true);
    expect(sameJson({}, {})).toBe(true);
  });

  it('is false for any difference: a value, a missing or extra key, array order, an array against an object', () => {
    const cases: [unknown, unknown][] = [
      [{ a: 1 }, { a: 2 }],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{ a: 1, b: 2 }, { a: 1 }],
      [[1, 2], [2, 1]],
      [[1], [1, 1]],
      [[], {}],
      [{}, []],
      ['1', 1],
      [null, {}],
      [{ a: null }, {}],
      [{ a: undefined }, {}],
      [undefined, undefined],
      [{ content: 'hi' }, { content: [{ type: 'text', text: 'hi' }] }],
    ];
    expect(cases.map(([a, b]) => sameJson(a, b))).toEqual(cases.map(() => false));
  });

  it('counts a client\'s own "__proto__" key as a key like any other', () => {
    const theirs = JSON.parse('{"__proto__":{"x":1}}') as unknown;
    expect([sameJson({}, theirs), sameJson({ ['__proto__']: { x: 1 } }, theirs)]).toEqual([false, true]);
  });
});

describe('encodeWithSource', () => {
  const messages = '[ {"role":"user",  "content":"Summarise: \\"report\\" \\u00e9"} ]';

  it('copies the client\'s bytes when the adapter renders the same JSON, the rest serialised after them', () => {
    const client = source(messages);
    const body = { model: 'upstream-model', messages: [{ role: 'user', content: (client.value as { content: string }[])[0]!.content }], max_tokens: 5 };
    const encoded = encodeWithSource(body, 'messages', client);
    expect(encoded).toBeInstanceOf(Uint8Array);
    expect(asText(encoded)).toBe(`{"messages":${messages},"model":"upstream-model","max_tokens":5}`);
    expect(JSON.parse(asText(encoded))).toEqual(body);
  });

  it('closes the object when the member is all there is', () => {
    const client = source('[]');
    expect(asText(encodeWithSource({ messages: [] }, 'messages', client))).toBe('{"messages":[]}');
  });

  it('serialises everything when the rendering differs from what the client sent, or there is no source', () => {
    const client = source('[{"role":"user","content":"hi","cache":"dropped by the codec"}]');
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    for (const s of [client, null, undefined]) {
      const encoded = encodeWithSource(body, 'messages', s);
      expect([typeof encoded, encoded]).toEqual(['string', JSON.stringify(body)]);
    }
    // A member the body does not have.
    expect(encodeWithSource({ model: 'm' }, 'messages', source('[]'))).toBe('{"model":"m"}');
  });
});
