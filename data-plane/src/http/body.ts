import type { HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';
import type { Reply } from './reply.ts';

/**
 * Reads a request body. Must be called synchronously in the uWS handler (onData has to be attached
 * before the handler returns). uWS reuses the ArrayBuffer it passes to onData, so each chunk is
 * copied; the total is capped so a client cannot make us buffer without bound.
 *
 * With a Content-Length (`declaredLength`, the header's text) within the cap, the body is copied
 * once into a buffer of that size instead of chunk by chunk and then joined: a long prompt is
 * copied once, not twice. One past the cap is refused at once. A body longer than it declared
 * (uWS frames by it, so only in theory) is still read whole, chunk by chunk.
 *
 * The caller may stop listening (a bad key is refused before the body is read): the returned
 * promise is marked handled so a later rejection (too large, client gone) cannot crash the
 * process as an unhandled rejection; awaiting it still throws.
 */
export function readBody(res: HttpResponse, reply: Reply, limit: number, declaredLength = ''): Promise<Buffer> {
  // uWS keeps the data handler, and the reply its abort listener, for as long as the response
  // lasts. Once the body is in, neither may still reach the promise (whose result is the body) or
  // the bytes, or a stream of minutes would hold a long prompt that long: everything they use is
  // in `reading`, let go when the body settles.
  let reading: Reading | null = null;
  const body = new Promise<Buffer>((resolve, reject) => {
    reading = { resolve, reject, whole: null, chunks: [], size: 0 };
  });
  body.catch(() => {});
  const fail = (error: GatewayError): void => {
    const r = reading;
    reading = null;
    r?.reject(error);
  };
  // uWS stops calling onData once the client is gone; without this the reader would wait forever.
  reply.onAbort(() => fail(new GatewayError('invalid_request', 'The client closed the connection.')));
  const tooLarge = () => new GatewayError('body_too_large', `request body exceeds ${limit} bytes`);
  const declared = /^\d{1,15}$/.test(declaredLength) ? Number(declaredLength) : null;
  if (declared !== null && declared > limit) fail(tooLarge());
  // Filled in place while the body matches its declared length; else (or past it) chunks.
  else if (declared !== null) reading!.whole = Buffer.allocUnsafe(declared);
  res.onData((chunk, isLast) => {
    const r: Reading | null = reading;
    if (r === null) return;
    if (r.size + chunk.byteLength > limit) {
      fail(tooLarge());
      return;
    }
    if (r.whole !== null && r.size + chunk.byteLength <= r.whole.byteLength) {
      r.whole.set(new Uint8Array(chunk), r.size);
    } else {
      if (r.whole !== null) r.chunks.push(r.whole.subarray(0, r.size));
      r.whole = null;
      r.chunks.push(Buffer.from(chunk.slice(0)));
    }
    r.size += chunk.byteLength;
    if (!isLast) return;
    reading = null;
    if (r.whole !== null) r.resolve(r.size === r.whole.byteLength ? r.whole : r.whole.subarray(0, r.size));
    else r.resolve(r.chunks.length === 1 ? r.chunks[0]! : Buffer.concat(r.chunks, r.size));
  });
  return body;
}

interface Reading {
  resolve(body: Buffer): void;
  reject(error: GatewayError): void;
  /** The body's buffer, of its declared length, while the chunks fit it. */
  whole: Buffer | null;
  chunks: Buffer[];
  size: number;
}
