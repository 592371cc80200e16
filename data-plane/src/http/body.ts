import type { HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';
import type { Reply } from './reply.ts';

/**
 * Reads a request body. Must be called synchronously in the uWS handler (onData has to be attached
 * before the handler returns). uWS reuses the ArrayBuffer it passes to onData, so each chunk is
 * copied; the total is capped so a client cannot make us buffer without bound.
 *
 * The caller may stop listening (a bad key is refused before the body is read): the returned
 * promise is marked handled so a later rejection (too large, client gone) cannot crash the
 * process as an unhandled rejection; awaiting it still throws.
 */
export function readBody(res: HttpResponse, reply: Reply, limit: number): Promise<Buffer> {
  const body = new Promise<Buffer>((resolve, reject) => {
    // uWS stops calling onData once the client is gone; without this the reader would wait forever.
    reply.onAbort(() => reject(new GatewayError('invalid_request', 'The client closed the connection.')));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(new GatewayError('body_too_large', `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
  body.catch(() => {});
  return body;
}
