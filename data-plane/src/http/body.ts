import type { HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';

/**
 * Reads a request body. Must be called synchronously in the uWS handler (onData has to be attached
 * before the handler returns). uWS reuses the ArrayBuffer it passes to onData, so each chunk is
 * copied; the total is capped so a client cannot make us buffer without bound.
 */
export function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
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
}
