import * as zlib from 'node:zlib';

/**
 * AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary format of Bedrock's
 * ConverseStream and other AWS streaming APIs. Every message, all integers big-endian:
 *
 *   total length u32 · headers length u32 · prelude CRC32 u32 (of the 8 bytes before it)
 *   headers (headers length bytes) · payload · message CRC32 u32 (of every byte before it)
 *
 * so a message is 16 bytes of framing plus its headers and payload. A header is
 * name length u8 · name (UTF-8) · value type u8 · value, the value's size depending on its type.
 * CRC32 is the gzip one (IEEE, reflected polynomial 0xEDB88320).
 */

export const PRELUDE_BYTES = 12;
/** Prelude plus the message CRC: the smallest message, with no headers and no payload. */
export const MIN_MESSAGE_BYTES = 16;
/**
 * AWS's services cap a message at 24 MiB (aws-c-event-stream's AWS_EVENT_STREAM_MAX_MESSAGE_SIZE);
 * callers should pass a much lower limit that fits what they expect.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 24 * 1024 * 1024;

/**
 * A header value, by wire type: 0/1 boolean, 2 byte, 3 short, 4 integer (numbers), 5 long
 * (bigint), 6 byte array (Uint8Array), 7 string, 8 timestamp (Date, from milliseconds since the
 * epoch), 9 UUID (a lowercase 8-4-4-4-12 hex string).
 */
export type EventStreamHeaderValue = string | boolean | number | bigint | Uint8Array | Date;

export interface EventStreamMessage {
  /** A null-prototype record: a header named `__proto__` is data, never a prototype. */
  headers: Record<string, EventStreamHeaderValue>;
  payload: Uint8Array;
}

/** The bytes are not a valid event stream, or a message is over the limit. */
export class EventStreamError extends Error {
  override name = 'EventStreamError';
  constructor(
    message: string,
    /** The message passed the size limit (as opposed to being malformed). */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

const HEADER_TYPE = { true: 0, false: 1, byte: 2, short: 3, integer: 4, long: 5, bytes: 6, string: 7, timestamp: 8, uuid: 9 } as const;

// ---------------------------------------------------------------------------------------------
// CRC32

let crcTable: Uint32Array | null = null;

/**
 * CRC32 by the 256-entry table, the reference implementation: used where node:zlib has no `crc32`
 * (added in Node 20.15 and 22.2) and in tests, to pin zlib's result to the definition.
 */
export function crc32Reference(bytes: Uint8Array, initial = 0): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

// Read through the namespace: a Node without `crc32` must load this module, not fail to link it.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC32 (gzip/IEEE) of the bytes, continuing from `initial` (a previous result) if given. */
export const crc32: (bytes: Uint8Array, initial?: number) => number =
  typeof zlibCrc32 === 'function' ? (bytes, initial = 0) => zlibCrc32(bytes, initial) >>> 0 : crc32Reference;

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder('utf-8');

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Parses the headers section of one message; every read stays inside it. */
function parseHeaders(section: Uint8Array): Record<string, EventStreamHeaderValue> {
  const headers: Record<string, EventStreamHeaderValue> = Object.create(null) as Record<string, EventStreamHeaderValue>;
  const data = view(section);
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > section.length) throw new EventStreamError(`an event-stream header ${what} runs past the headers section`);
  };
  while (at < section.length) {
    const nameLength = section[at]!;
    at += 1;
    if (nameLength === 0) throw new EventStreamError('an event-stream header has an empty name');
    need(nameLength, 'name');
    const name = utf8.decode(section.subarray(at, at + nameLength));
    at += nameLength;
    need(1, 'type');
    const type = section[at]!;
    at += 1;
    let value: EventStreamHeaderValue;
    switch (type) {
      case HEADER_TYPE.true:
        value = true;
        break;
      case HEADER_TYPE.false:
        value = false;
        break;
      case HEADER_TYPE.byte:
        need(1, 'value');
        value = data.getInt8(at);
        at += 1;
        break;
      case HEADER_TYPE.short:
        need(2, 'value');
        value = data.getInt16(at);
        at += 2;
        break;
      case HEADER_TYPE.integer:
        need(4, 'value');
        value = data.getInt32(at);
        at += 4;
        break;
      case HEADER_TYPE.long:
        need(8, 'value');
        value = data.getBigInt64(at);
        at += 8;
        break;
      case HEADER_TYPE.timestamp:
        need(8, 'value');
        // Milliseconds since the epoch; a value outside Date's range gives an invalid Date, not a throw.
        value = new Date(Number(data.getBigInt64(at)));
        at += 8;
        break;
      case HEADER_TYPE.bytes:
      case HEADER_TYPE.string: {
        need(2, 'value length');
        const length = data.getUint16(at);
        at += 2;
        need(length, 'value');
        const raw = new Uint8Array(section.subarray(at, at + length));
        value = type === HEADER_TYPE.string ? utf8.decode(raw) : raw;
        at += length;
        break;
      }
      case HEADER_TYPE.uuid: {
        need(16, 'value');
        const h = hex(section.subarray(at, at + 16));
        value = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        at += 16;
        break;
      }
      default:
        // The size of an unknown type's value is unknown, so nothing after it can be read.
        throw new EventStreamError(`an event-stream header has the unknown value type ${type}`);
    }
    headers[name] = value;
  }
  return headers;
}

/**
 * Incremental event-stream decoder: bytes in, complete messages out, whatever the chunk boundaries.
 * Memory is bounded by `maxMessageBytes`: a prelude announcing a larger message is refused as soon
 * as its 12 bytes are in, before anything of that size is allocated or waited for. Chunks are held
 * as they came and joined once per message, so a message arriving in many pieces costs linear time.
 */
export class EventStreamDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Total length of the message being read, once its prelude has been checked. */
  private expected: number | null = null;
  private failed: EventStreamError | null = null;

  constructor(readonly maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new RangeError(`maxMessageBytes must be an integer of at least ${MIN_MESSAGE_BYTES}`);
    }
  }

  /** Bytes received that do not yet make a whole message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Throws EventStreamError on a CRC mismatch, a malformed message or one over the limit. The
   * whole messages before the bad one still come out: when this chunk completed some, they are
   * returned and the error is thrown by the next call. After it the stream has lost its framing,
   * and every later call throws the same error.
   */
  push(chunk: Uint8Array): EventStreamMessage[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      // Copied (a Buffer's slice would be a view): the caller may reuse its buffer once push returns.
      this.chunks.push(new Uint8Array(chunk));
      this.buffered += chunk.length;
    }
    const messages: EventStreamMessage[] = [];
    try {
      for (;;) {
        if (this.expected === null) {
          if (this.buffered < PRELUDE_BYTES) break;
          this.expected = checkPrelude(this.peek(PRELUDE_BYTES), this.maxMessageBytes);
        }
        if (this.buffered < this.expected) break;
        const bytes = this.take(this.expected);
        this.expected = null;
        messages.push(decodeChecked(bytes));
      }
    } catch (error) {
      if (!(error instanceof EventStreamError)) throw error;
      this.failed = error;
      this.chunks = [];
      this.buffered = 0;
      this.expected = null;
      if (messages.length === 0) throw error;
    }
    return messages;
  }

  /**
   * The end of the stream: every whole message has already come out of `push`. A partial message
   * left over cannot be checked and is dropped; returns its size, so the caller can tell a clean
   * end (0) from a cut one. Throws the error a last push deferred.
   */
  end(): number {
    if (this.failed) throw this.failed;
    const dropped = this.buffered;
    this.chunks = [];
    this.buffered = 0;
    this.expected = null;
    return dropped;
  }

  /** The first n buffered bytes, without consuming them (n ≤ buffered). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes the first n buffered bytes (n ≤ buffered). */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const wanted = n - filled;
      if (chunk.length <= wanted) {
        out.set(chunk, filled);
        filled += chunk.length;
        this.chunks.shift();
      } else {
        out.set(chunk.subarray(0, wanted), filled);
        filled += wanted;
        this.chunks[0] = chunk.subarray(wanted);
      }
    }
    this.buffered -= n;
    return out;
  }
}

/** Checks a prelude (a message's first 12 bytes) and returns the message's total length. */
function checkPrelude(bytes: Uint8Array, maxMessageBytes: number): number {
  const data = view(bytes);
  const total = data.getUint32(0);
  if (crc32(bytes.subarray(0, 8)) !== data.getUint32(8)) throw new EventStreamError('event-stream prelude CRC mismatch');
  if (total > maxMessageBytes) throw new EventStreamError(`an event-stream message of ${total} bytes exceeds the limit of ${maxMessageBytes}`, true);
  if (total < MIN_MESSAGE_BYTES) throw new EventStreamError(`an event-stream message claims ${total} bytes, fewer than its framing`);
  if (data.getUint32(4) > total - MIN_MESSAGE_BYTES) throw new EventStreamError('event-stream headers are longer than their message');
  return total;
}

/** Decodes one whole message whose prelude was checked and whose length is the one it claims. */
function decodeChecked(bytes: Uint8Array): EventStreamMessage {
  const data = view(bytes);
  const total = bytes.length;
  if (crc32(bytes.subarray(0, total - 4)) !== data.getUint32(total - 4)) throw new EventStreamError('event-stream message CRC mismatch');
  const headersEnd = PRELUDE_BYTES + data.getUint32(4);
  return { headers: parseHeaders(bytes.subarray(PRELUDE_BYTES, headersEnd)), payload: new Uint8Array(bytes.subarray(headersEnd, total - 4)) };
}

/** Decodes exactly one whole message, on its own. */
export function decodeMessageBytes(bytes: Uint8Array, maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES): EventStreamMessage {
  if (bytes.length < MIN_MESSAGE_BYTES) throw new EventStreamError('an event-stream message is shorter than its framing');
  if (checkPrelude(bytes, maxMessageBytes) !== bytes.length) throw new EventStreamError('an event-stream message does not have the length its prelude claims');
  return decodeChecked(bytes);
}

/** A header's value when it is a string, else null. */
export function stringHeader(message: EventStreamMessage, name: string): string | null {
  const value = message.headers[name];
  return typeof value === 'string' ? value : null;
}

// ---------------------------------------------------------------------------------------------
// Encoding (fake upstreams, fixtures, tests)

/** A header value to encode; a plain string is a string header. */
export type EventStreamHeaderInput =
  | string
  | { type: 'boolean'; value: boolean }
  | { type: 'byte' | 'short' | 'integer'; value: number }
  | { type: 'long' | 'timestamp'; value: bigint }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'string'; value: string }
  | { type: 'uuid'; value: string };

const utf8Encoder = new TextEncoder();

function encodeHeader(name: string, input: EventStreamHeaderInput): Uint8Array {
  const nameBytes = utf8Encoder.encode(name);
  if (nameBytes.length === 0 || nameBytes.length > 255) throw new RangeError('an event-stream header name takes 1 to 255 bytes');
  const value = typeof input === 'string' ? { type: 'string' as const, value: input } : input;
  let body: Uint8Array;
  switch (value.type) {
    case 'boolean':
      body = Uint8Array.of(value.value ? HEADER_TYPE.true : HEADER_TYPE.false);
      break;
    case 'byte':
      body = Uint8Array.of(HEADER_TYPE.byte, value.value & 0xff);
      break;
    case 'short':
      body = new Uint8Array(3);
      body[0] = HEADER_TYPE.short;
      view(body).setInt16(1, value.value);
      break;
    case 'integer':
      body = new Uint8Array(5);
      body[0] = HEADER_TYPE.integer;
      view(body).setInt32(1, value.value);
      break;
    case 'long':
    case 'timestamp':
      body = new Uint8Array(9);
      body[0] = value.type === 'long' ? HEADER_TYPE.long : HEADER_TYPE.timestamp;
      view(body).setBigInt64(1, value.value);
      break;
    case 'bytes':
    case 'string': {
      const raw = value.type === 'string' ? utf8Encoder.encode(value.value) : value.value;
      if (raw.length > 0xffff) throw new RangeError('an event-stream header value takes at most 65535 bytes');
      body = new Uint8Array(3 + raw.length);
      body[0] = value.type === 'string' ? HEADER_TYPE.string : HEADER_TYPE.bytes;
      view(body).setUint16(1, raw.length);
      body.set(raw, 3);
      break;
    }
    case 'uuid': {
      const digits = value.value.replace(/-/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(digits)) throw new RangeError('a UUID header takes 32 hex digits');
      body = new Uint8Array(17);
      body[0] = HEADER_TYPE.uuid;
      for (let i = 0; i < 16; i++) body[1 + i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
      break;
    }
  }
  const out = new Uint8Array(1 + nameBytes.length + body.length);
  out[0] = nameBytes.length;
  out.set(nameBytes, 1);
  out.set(body, 1 + nameBytes.length);
  return out;
}

/** Encodes one message with both CRCs; headers keep the order given. */
export function encodeEventStreamMessage(headers: ReadonlyArray<readonly [string, EventStreamHeaderInput]>, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? utf8Encoder.encode(payload) : payload;
  const encoded = headers.map(([name, value]) => encodeHeader(name, value));
  const headersLength = encoded.reduce((n, h) => n + h.length, 0);
  const total = MIN_MESSAGE_BYTES + headersLength + body.length;
  const out = new Uint8Array(total);
  const data = view(out);
  data.setUint32(0, total);
  data.setUint32(4, headersLength);
  data.setUint32(8, crc32(out.subarray(0, 8)));
  let at = PRELUDE_BYTES;
  for (const h of encoded) {
    out.set(h, at);
    at += h.length;
  }
  out.set(body, at);
  data.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}
