import { createServer, type Server, type Socket } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Abort } from './abort.ts';
import { UpstreamCall } from './call.ts';

/** An upstream that answers with exactly three headers and one chunk, then holds the stream open. */
const HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-ratelimit-remaining-requests: 99\r\ntransfer-encoding: chunked\r\n\r\n';
const FIRST = 'data: {"x":1}\n\n';

describe('UpstreamCall', () => {
  let server: Server;
  let origin: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(`${HEAD}${FIRST.length.toString(16)}\r\n${FIRST}\r\n`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('lets go of undici\'s raw header buffers once it has the head, for as long as the body streams', async () => {
    const pool = new Pool(origin, { connections: 1 });
    let rawHeadersGiven: number | null = null;
    let controller: Dispatcher.DispatchController | null = null;
    // Between undici and the call: sees the controller undici hands over, and what it carries.
    const watching = {
      dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
        pool.dispatch(options, {
          ...handler,
          onResponseStart: (c, statusCode, headers, message) => {
            controller = c;
            rawHeadersGiven = Array.isArray(c.rawHeaders) ? c.rawHeaders.length : null;
            handler.onResponseStart!(c, statusCode, headers, message);
          },
        }),
    } as unknown as Dispatcher;
    const call = new UpstreamCall(new Abort(), 10_000);
    const head = await call.send(watching, { method: 'POST', path: '/v1/chat/completions', headers: {}, body: '{}' });
    expect([head.statusCode, head.headers['x-ratelimit-remaining-requests']]).toEqual([200, '99']);
    expect(rawHeadersGiven).toBe(6);
    expect(controller!.rawHeaders).toBeNull();
    // The body still streams.
    expect((await call.next(1_000_000))!.toString()).toBe(FIRST);
    call.dispose();
    await pool.destroy();
  });
});
