import { STATUS_CODES } from 'node:http';
import uWS from 'uWebSockets.js';
import { Pool } from 'undici';

/**
 * The floor: a uWebSockets.js + undici pass-through with no gateway logic (read the body, one pooled
 * upstream request, the answer written back, streamed for SSE). Its figures are the physical limit
 * of Tollgate's stack on this machine. Env: BENCH_FLOOR_PORT, BENCH_UPSTREAM_ORIGIN.
 */
const pool = new Pool(process.env.BENCH_UPSTREAM_ORIGIN!, { connections: 4096, pipelining: 1, keepAliveTimeout: 30_000 });

async function pass(res: uWS.HttpResponse, state: { open: boolean; signal: AbortSignal }, method: string, path: string, body: Buffer | null): Promise<void> {
  try {
    const upstream = await pool.request({ method, path, body, headers: { 'content-type': 'application/json' }, signal: state.signal });
    const type = String(upstream.headers['content-type'] ?? 'application/json');
    const status = `${upstream.statusCode} ${STATUS_CODES[upstream.statusCode] ?? ''}`;
    upstream.body.on('error', () => state.open && ((state.open = false), res.close()));
    if (!type.startsWith('text/event-stream')) {
      const whole = Buffer.from(await upstream.body.arrayBuffer());
      if (state.open) res.cork(() => res.writeStatus(status).writeHeader('content-type', type).end(whole));
      return;
    }
    if (state.open) res.cork(() => res.writeStatus(status).writeHeader('content-type', type));
    upstream.body.on('data', (chunk: Buffer) => {
      let ok = true;
      if (state.open) res.cork(() => (ok = res.write(chunk)));
      if (!ok) upstream.body.pause(), res.onWritable(() => (upstream.body.resume(), true));
    });
    upstream.body.on('end', () => state.open && ((state.open = false), res.cork(() => res.end())));
  } catch {
    if (state.open) res.cork(() => res.writeStatus('502 Bad Gateway').end());
  }
}

uWS.App()
  .any('/*', (res, req) => {
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const controller = new AbortController();
    const state = { open: true, signal: controller.signal };
    res.onAborted(() => ((state.open = false), controller.abort()));
    if (method === 'GET') return void pass(res, state, method, path, null);
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) void pass(res, state, method, path, Buffer.concat(chunks));
    });
  })
  .listen('127.0.0.1', Number(process.env.BENCH_FLOOR_PORT ?? 0), (socket) => {
    if (!socket) process.exit(1);
    console.log(`floor listening on http://127.0.0.1:${uWS.us_socket_local_port(socket)}`);
  });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
