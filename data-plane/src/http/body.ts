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
  const body = new Promise<Buffer>((resolve, reject) => {
    // uWS stops calling onData once the client is gone; without this the reader would wait forever.
    reply.onAbort(() => reject(new GatewayError('invalid_request', 'The client closed the connection.')));
    const tooLarge = () => new GatewayError('body_too_large', `request body exceeds ${limit} bytes`);
    const declared = /^\d{1,15}$/.test(declaredLength) ? Number(declaredLength) : null;
    let failed = declared !== null && declared > limit;
    if (failed) reject(tooLarge());
    // Filled in place while the body matches its declared length; else (or past it) chunks.
    let whole = declared !== null && !failed ? Buffer.allocUnsafe(declared) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (failed) return;
      if (size + chunk.byteLength > limit) {
        failed = true;
        reject(tooLarge());
        return;
      }
      if (whole !== null && size + chunk.byteLength <= whole.byteLength) {
        whole.set(new Uint8Array(chunk), size);
      } else {
        if (whole !== null) chunks.push(whole.subarray(0, size));
        whole = null;
        chunks.push(Buffer.from(chunk.slice(0)));
      }
      size += chunk.byteLength;
      if (!isLast) return;
      if (whole !== null) resolve(size === whole.byteLength ? whole : whole.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
  body.catch(() => {});
  return body;
}
