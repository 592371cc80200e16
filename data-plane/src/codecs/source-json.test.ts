import { describe, expect, it } from 'vitest';
import { sourceMember } from './source-json.ts';

/** The member's bytes as text, as sourceMember found them in `body`; null when it declined. */
function found(body: string, name = 'messages'): string | null {
  const raw = Buffer.from(body);
  const source = sourceMember(raw, JSON.parse(body) as Record<string, unknown>, name);
  return source === null ? null : Buffer.from(source.bytes).toString('utf8');
}

describe('sourceMember: a top-level member of a parsed body, as its bytes', () => {
  it('finds the exact bytes of the member, whitespace inside kept, none around it', () => {
    const messages = '[ {"role" : "user",\n "content":"hi"} ]';
    expect(found(`{ "model":"m" ,\n "messages" :  ${messages}  , "n": 1 }`)).toBe(messages);
    expect(found(`{"messages":${messages}}`)).toBe(messages);
  });

  it('returns the very value JSON.parse read, not a copy', () => {
    const body = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(sourceMember(Buffer.from(body), parsed, 'messages')?.value).toBe(parsed.messages);
  });

  it('finds members of every kind, after members of every kind', () => {
    const before = '"a":{"x":[1,{"y":"}]"}],"z":null},"b":[true,false,-1.5e3,"]"],"c":"\\"{","d":0';
    for (const value of ['"text"', '12.5e-3', 'true', 'null', '[]', '{}', '[[[]]]', '{"k":{"k":{}}}']) {
      expect(found(`{${before},"m":${value},"e":"after"}`, 'm')).toBe(value);
    }
  });

  it('reads strings by their escapes: quotes, backslashes before a quote, braces and brackets inside', () => {
    const tricky = [
      '"say \\"hi\\""',
      '"ends in a backslash \\\\"',
      '"three \\\\\\" then more"',
      '"} ] { [ , :"',
      '"\\u0022 and \\\\u0022"',
      '"tab\\tnewline\\n"',
    ];
    for (const text of tricky) {
      const messages = `[{"role":"user","content":${text}}]`;
      const body = `{"messages":${messages},"after":${text}}`;
      expect(found(body)).toBe(messages);
      expect(JSON.parse(found(body)!)).toEqual(JSON.parse(body).messages);
    }
  });

  it('declines a member that appears twice: JSON.parse keeps the last, another parser may keep the first', () => {
    expect(found('{"messages":[{"role":"user","content":"a"}],"messages":[{"role":"user","content":"b"}]}')).toBeNull();
    expect(found('{"messages":[],"\\u006dessages":[{"role":"user","content":"b"}]}')).toBeNull();
  });

  it('declines a member in which any object repeats a key, at any depth and however the key is escaped', () => {
    expect(found('{"messages":[{"role":"user","content":"hi","content":[{"type":"input_audio"}]}]}')).toBeNull();
    expect(found('{"messages":[{"role":"user","content":[{"type":"text","text":"a","type":"x"}]}]}')).toBeNull();
    expect(found('{"messages":[{"role":"user","r\\u006fle":"system","content":"hi"}]}')).toBeNull();
    // The same key in sibling objects is not a repeat.
    expect(found('{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}')).toBe('[{"role":"user","content":"a"},{"role":"user","content":"b"}]');
  });

  it('ignores repeated keys in other members: the gateway re-serialises those from what it read', () => {
    expect(found('{"tools":[{"type":"function","type":"function"}],"messages":[{"role":"user","content":"a"}]}')).toBe('[{"role":"user","content":"a"}]');
  });

  it('declines bytes that are not valid UTF-8: the gateway read U+FFFD where a provider would get the bytes', () => {
    const body = Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    expect(sourceMember(body, parsed, 'messages')).toBeNull();
    const valid = Buffer.from('{"messages":[{"role":"user","content":"héllo 🦊"}]}');
    expect(Buffer.from(sourceMember(valid, JSON.parse(valid.toString('utf8')) as Record<string, unknown>, 'messages')!.bytes).toString('utf8')).toBe('[{"role":"user","content":"héllo 🦊"}]');
  });

  it('declines a body without the member', () => {
    expect(found('{"model":"m"}')).toBeNull();
    expect(found('{}')).toBeNull();
  });

  it('walks a deeply nested member without recursion', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(found(`{"other":${deep},"messages":${deep}}`)).toBe(deep);
  });

  it('agrees with JSON.parse on random bodies: the bytes found parse to the value read', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const pieces = ['a', ' ', '"', '\\', '{', '}', '[', ']', ',', ':', 'é', '\n', '\u2028', '🦊'];
    const text = (): string => Array.from({ length: random(12) }, () => pieces[random(pieces.length)]).join('');
    const value = (depth: number): unknown => {
      const kind = random(depth > 3 ? 4 : 6);
      if (kind === 0) return text();
      if (kind === 1) return random(2000) - 1000 + random(100) / 8;
      if (kind === 2) return [true, false, null][random(3)];
      if (kind === 3) return '';
      if (kind === 4) return Array.from({ length: random(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: random(4) }, (_, i) => [`${text()}${i}`, value(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const body = { before: value(0), messages: value(0), after: value(0) };
      const indent = random(3) === 0 ? 2 : undefined;
      const source = JSON.stringify(body, null, indent);
      const got = found(source);
      expect(got).not.toBeNull();
      expect(JSON.parse(got!)).toEqual(body.messages);
    }
  });
});
