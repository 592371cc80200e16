import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  crc32Reference,
  decodeMessageBytes,
  encodeEventStreamMessage,
  EventStreamDecoder,
  EventStreamError,
  stringHeader,
  type EventStreamMessage,
} from './event-stream.ts';

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const bytes = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/**
 * Example messages from AWS's own event-stream library (awslabs/aws-c-event-stream,
 * tests/message_deserializer_test.c and message_serializer_test.c), with the CRCs AWS computed.
 */
const AWS_EXAMPLES = {
  empty: bytes(0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff),
  noHeaders: bytes([0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a], ascii("{'foo':'bar'}"), [0xc3, 0x65, 0x39, 0x36]),
  stringHeader: bytes(
    [0x00, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x00, 0x20, 0x07, 0xfd, 0x83, 0x96, 0x0c],
    ascii('content-type'),
    [0x07, 0x00, 0x10],
    ascii('application/json'),
    ascii("{'foo':'bar'}"),
    [0x8d, 0x9c, 0x08, 0xb1],
  ),
  int32Header: bytes(
    [0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x0e, 0x34, 0x8b, 0xec, 0x7b, 0x08],
    ascii('event-id'),
    [0x04, 0x00, 0x00, 0xa0, 0x0c],
    ascii("{'foo':'bar'}"),
    [0xd3, 0x89, 0x02, 0x85],
  ),
};

function decodeAll(chunks: Uint8Array[], limit?: number): EventStreamMessage[] {
  const decoder = new EventStreamDecoder(limit);
  const out = chunks.flatMap((c) => decoder.push(c));
  expect(decoder.end()).toBe(0);
  return out;
}

/** Cuts bytes at the given points (sorted, repeats allowed: empty chunks). */
function split(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((c) => c % (all.length + 1)).sort((a, b) => a - b), all.length];
  return points.slice(1).map((end, i) => all.slice(points[i], end));
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const plain = (m: EventStreamMessage): { headers: Record<string, unknown>; payload: string } => ({ headers: { ...m.headers }, payload: text(m.payload) });

/** A prelude announcing `total` bytes and `headersLength`, with a correct prelude CRC. */
function prelude(total: number, headersLength: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  return out;
}

/** Rewrites a message's trailing CRC so that only the part under test is wrong. */
function fixMessageCrc(message: Uint8Array): Uint8Array {
  const out = message.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
  return out;
}

describe('crc32', () => {
  it('gives the CRC-32 check value for "123456789", through zlib and the table alike', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Reference(check)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('zlib agrees with the reference table on any bytes, whole or continued (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        expect(crc32(a)).toBe(crc32Reference(a));
        expect(crc32(b, crc32(a))).toBe(crc32Reference(concat(a, b)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('event-stream: AWS example messages', () => {
  it('decodes the empty message', () => {
    expect(decodeAll([AWS_EXAMPLES.empty]).map(plain)).toEqual([{ headers: {}, payload: '' }]);
  });

  it('decodes a payload without headers', () => {
    expect(decodeAll([AWS_EXAMPLES.noHeaders]).map(plain)).toEqual([{ headers: {}, payload: "{'foo':'bar'}" }]);
  });

  it('decodes a string header', () => {
    expect(decodeAll([AWS_EXAMPLES.stringHeader]).map(plain)).toEqual([{ headers: { 'content-type': 'application/json' }, payload: "{'foo':'bar'}" }]);
  });

  it('decodes an int32 header', () => {
    expect(decodeAll([AWS_EXAMPLES.int32Header]).map(plain)).toEqual([{ headers: { 'event-id': 0xa00c }, payload: "{'foo':'bar'}" }]);
  });

  it('the encoder reproduces each example byte for byte', () => {
    expect(encodeEventStreamMessage([], '')).toEqual(AWS_EXAMPLES.empty);
    expect(encodeEventStreamMessage([], "{'foo':'bar'}")).toEqual(AWS_EXAMPLES.noHeaders);
    expect(encodeEventStreamMessage([['content-type', 'application/json']], "{'foo':'bar'}")).toEqual(AWS_EXAMPLES.stringHeader);
    expect(encodeEventStreamMessage([['event-id', { type: 'integer', value: 0xa00c }]], "{'foo':'bar'}")).toEqual(AWS_EXAMPLES.int32Header);
  });

  it('decodes the four examples back to back, for every split of the bytes (property)', () => {
    const all = concat(AWS_EXAMPLES.empty, AWS_EXAMPLES.noHeaders, AWS_EXAMPLES.stringHeader, AWS_EXAMPLES.int32Header);
    const expected = [
      { headers: {}, payload: '' },
      { headers: {}, payload: "{'foo':'bar'}" },
      { headers: { 'content-type': 'application/json' }, payload: "{'foo':'bar'}" },
      { headers: { 'event-id': 0xa00c }, payload: "{'foo':'bar'}" },
    ];
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(decodeAll(split(all, cuts)).map(plain)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes a stream fed one byte at a time', () => {
    const all = concat(AWS_EXAMPLES.stringHeader, AWS_EXAMPLES.int32Header);
    const decoder = new EventStreamDecoder();
    const counts = [...all].map((b) => decoder.push(Uint8Array.of(b)).length);
    // Each message comes out with its last byte, not before.
    expect(counts.flatMap((n, i) => (n > 0 ? [[n, i]] : []))).toEqual([
      [1, AWS_EXAMPLES.stringHeader.length - 1],
      [1, all.length - 1],
    ]);
  });
});

describe('event-stream: header value types', () => {
  it('reads every type AWS defines, in order, whatever the chunking', () => {
    const message = encodeEventStreamMessage(
      [
        ['yes', { type: 'boolean', value: true }],
        ['no', { type: 'boolean', value: false }],
        ['byte', { type: 'byte', value: -7 }],
        ['short', { type: 'short', value: -1234 }],
        ['integer', { type: 'integer', value: -123_456_789 }],
        ['long', { type: 'long', value: -(2n ** 62n) }],
        ['bytes', { type: 'bytes', value: Uint8Array.of(0, 1, 254, 255) }],
        ['string', 'héllo ✓'],
        ['timestamp', { type: 'timestamp', value: 1_700_000_000_123n }],
        ['uuid', { type: 'uuid', value: '0123ABCD-4567-89ab-cdef-0123456789ab' }],
      ],
      'p',
    );
    const [decoded] = decodeAll(split(message, [3, 17, 40, 41, 90]));
    expect(decoded?.headers).toEqual({
      yes: true,
      no: false,
      byte: -7,
      short: -1234,
      integer: -123_456_789,
      long: -(2n ** 62n),
      bytes: Uint8Array.of(0, 1, 254, 255),
      string: 'héllo ✓',
      timestamp: new Date(1_700_000_000_123),
      uuid: '0123abcd-4567-89ab-cdef-0123456789ab',
    });
    expect(Object.keys(decoded?.headers ?? {})).toEqual(['yes', 'no', 'byte', 'short', 'integer', 'long', 'bytes', 'string', 'timestamp', 'uuid']);
  });

  it('keeps a header named __proto__ as data, on a record without a prototype', () => {
    const [decoded] = decodeAll([encodeEventStreamMessage([['__proto__', 'x'], ['constructor', 'y']], '')]);
    expect(Object.getPrototypeOf(decoded?.headers)).toBe(null);
    expect(decoded === undefined ? null : stringHeader(decoded, '__proto__')).toBe('x');
    expect(decoded === undefined ? null : stringHeader(decoded, 'constructor')).toBe('y');
  });

  it('a repeated header name keeps the last value', () => {
    expect(decodeAll([encodeEventStreamMessage([['a', '1'], ['a', '2']], '')]).map(plain)).toEqual([{ headers: { a: '2' }, payload: '' }]);
  });

  it('stringHeader answers null for a header of another type or none', () => {
    const [decoded] = decodeAll([encodeEventStreamMessage([['n', { type: 'integer', value: 1 }]], '')]);
    expect(decoded === undefined ? 'missing' : [stringHeader(decoded, 'n'), stringHeader(decoded, 'absent')]).toEqual([null, null]);
  });

  it('the copy it keeps is its own: the caller may reuse its buffer, a Node Buffer too', () => {
    const decoder = new EventStreamDecoder();
    const buffer = Buffer.from(AWS_EXAMPLES.stringHeader);
    expect(decoder.push(buffer.subarray(0, 30))).toEqual([]);
    buffer.fill(0, 0, 30);
    expect(decoder.push(AWS_EXAMPLES.stringHeader.subarray(30)).map(plain)).toEqual([{ headers: { 'content-type': 'application/json' }, payload: "{'foo':'bar'}" }]);
  });
});

describe('event-stream: corrupt input', () => {
  const valid = AWS_EXAMPLES.stringHeader;

  it('refuses a prelude whose CRC does not match', () => {
    const bad = valid.slice();
    bad[11]! ^= 0x01;
    expect(() => decodeAll([bad])).toThrow(new EventStreamError('event-stream prelude CRC mismatch'));
  });

  it('refuses a message whose CRC does not match: a flipped payload byte, header byte or CRC byte', () => {
    for (const at of [valid.length - 6, 20, valid.length - 1]) {
      const bad = valid.slice();
      bad[at]! ^= 0x40;
      expect(() => decodeAll([bad])).toThrow(new EventStreamError('event-stream message CRC mismatch'));
    }
  });

  it('refuses a total length smaller than the framing', () => {
    expect(() => decodeAll([prelude(15, 0)])).toThrow(new EventStreamError('an event-stream message claims 15 bytes, fewer than its framing'));
  });

  it('refuses headers longer than the message', () => {
    expect(() => decodeAll([prelude(40, 25)])).toThrow(new EventStreamError('event-stream headers are longer than their message'));
  });

  it('refuses an unknown header value type, an empty header name and a value running past the headers', () => {
    const header = (raw: number[]): Uint8Array => {
      const section = Uint8Array.from(raw);
      return fixMessageCrc(concat(prelude(16 + section.length, section.length), section, new Uint8Array(4)));
    };
    expect(() => decodeAll([header([1, ...ascii('a'), 10])])).toThrow(new EventStreamError('an event-stream header has the unknown value type 10'));
    expect(() => decodeAll([header([0, 7, 0, 0])])).toThrow(new EventStreamError('an event-stream header has an empty name'));
    expect(() => decodeAll([header([1, ...ascii('a'), 7, 0, 9, ...ascii('abc')])])).toThrow(new EventStreamError('an event-stream header value runs past the headers section'));
    expect(() => decodeAll([header([1, ...ascii('a'), 5, 0, 0])])).toThrow(new EventStreamError('an event-stream header value runs past the headers section'));
    expect(() => decodeAll([header([5, ...ascii('ab')])])).toThrow(new EventStreamError('an event-stream header name runs past the headers section'));
    expect(() => decodeAll([header([1, ...ascii('a')])])).toThrow(new EventStreamError('an event-stream header type runs past the headers section'));
  });

  it('gives the whole messages before a corrupt one, then throws on the next call', () => {
    const bad = valid.slice();
    bad[valid.length - 6]! ^= 0x40;
    const decoder = new EventStreamDecoder();
    expect(decoder.push(concat(AWS_EXAMPLES.noHeaders, AWS_EXAMPLES.empty, bad, AWS_EXAMPLES.int32Header)).map(plain)).toEqual([
      { headers: {}, payload: "{'foo':'bar'}" },
      { headers: {}, payload: '' },
    ]);
    expect(() => decoder.end()).toThrow(new EventStreamError('event-stream message CRC mismatch'));
    expect(() => decoder.push(AWS_EXAMPLES.empty)).toThrow(new EventStreamError('event-stream message CRC mismatch'));
  });

  it('after an error every later push throws the same error', () => {
    const decoder = new EventStreamDecoder();
    const bad = valid.slice();
    bad[0]! ^= 0x01;
    expect(() => decoder.push(bad)).toThrow(EventStreamError);
    expect(() => decoder.push(AWS_EXAMPLES.empty)).toThrow(new EventStreamError('event-stream prelude CRC mismatch'));
  });

  it('never throws anything but EventStreamError, on any bytes in any chunks (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (junk, cuts) => {
        const decoder = new EventStreamDecoder(1024);
        const thrown = ((): unknown => {
          try {
            for (const chunk of split(junk, cuts)) decoder.push(chunk);
            decoder.end();
            return null;
          } catch (error) {
            return error;
          }
        })();
        expect(thrown === null || thrown instanceof EventStreamError).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a valid stream with any one byte changed always throws EventStreamError (property)', () => {
    const all = concat(AWS_EXAMPLES.noHeaders, AWS_EXAMPLES.stringHeader, AWS_EXAMPLES.int32Header);
    const originals = [AWS_EXAMPLES.noHeaders, AWS_EXAMPLES.stringHeader, AWS_EXAMPLES.int32Header].map((m) => decodeMessageBytes(m));
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = all.slice();
        bad[at]! ^= flip;
        const decoder = new EventStreamDecoder(1024);
        const got: EventStreamMessage[] = [];
        // A CRC-32 catches every single-byte change: no corrupted message is ever returned, only
        // the unchanged messages before it.
        expect(() => {
          got.push(...decoder.push(bad));
          decoder.end();
        }).toThrow(EventStreamError);
        expect(got.map(plain)).toEqual(originals.slice(0, got.length).map(plain));
      }),
      { numRuns: 300 },
    );
  });
});

describe('event-stream: limits', () => {
  it('refuses a prelude announcing more than the limit as soon as its 12 bytes are in', () => {
    const decoder = new EventStreamDecoder(1024);
    // 2 GiB announced with a correct prelude CRC: nothing that large is allocated or waited for.
    expect(() => decoder.push(prelude(0x7fff_ffff, 0))).toThrow(new EventStreamError('an event-stream message of 2147483647 bytes exceeds the limit of 1024', true));
    expect(decoder.pendingBytes).toBe(0);
  });

  it('refuses it whatever the chunking, before the message body arrives (property)', () => {
    const hostile = concat(AWS_EXAMPLES.empty, prelude(0xffff_ffff, 0), new Uint8Array(64));
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        expect(() => decodeAll(split(hostile, cuts), 1024)).toThrow(new EventStreamError('an event-stream message of 4294967295 bytes exceeds the limit of 1024', true));
      }),
      { numRuns: 100 },
    );
  });

  it('passes a message exactly at the limit and refuses one byte more', () => {
    const at = encodeEventStreamMessage([], 'x'.repeat(84));
    expect(at.length).toBe(100);
    expect(decodeAll([at], 100)).toHaveLength(1);
    expect(() => decodeAll([encodeEventStreamMessage([], 'x'.repeat(85))], 100)).toThrow(new EventStreamError('an event-stream message of 101 bytes exceeds the limit of 100', true));
  });

  it('refuses a limit below the framing', () => {
    expect(() => new EventStreamDecoder(15)).toThrow(RangeError);
  });
});

describe('event-stream: end of stream', () => {
  it('reports the bytes of a message cut off by the end, and yields nothing of it', () => {
    const decoder = new EventStreamDecoder();
    const messages = decoder.push(concat(AWS_EXAMPLES.noHeaders, AWS_EXAMPLES.stringHeader.subarray(0, 20)));
    expect(messages.map(plain)).toEqual([{ headers: {}, payload: "{'foo':'bar'}" }]);
    expect(decoder.pendingBytes).toBe(20);
    expect(decoder.end()).toBe(20);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('reports 0 for a stream that ended between messages', () => {
    const decoder = new EventStreamDecoder();
    decoder.push(AWS_EXAMPLES.noHeaders);
    expect(decoder.end()).toBe(0);
  });
});

describe('decodeMessageBytes', () => {
  it('decodes exactly one whole message and refuses a length that disagrees with its prelude', () => {
    expect(plain(decodeMessageBytes(AWS_EXAMPLES.stringHeader))).toEqual({ headers: { 'content-type': 'application/json' }, payload: "{'foo':'bar'}" });
    expect(() => decodeMessageBytes(concat(AWS_EXAMPLES.empty, Uint8Array.of(0)))).toThrow(new EventStreamError('an event-stream message does not have the length its prelude claims'));
    expect(() => decodeMessageBytes(AWS_EXAMPLES.empty.subarray(0, 15))).toThrow(new EventStreamError('an event-stream message is shorter than its framing'));
  });
});
