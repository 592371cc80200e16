import uWS from 'uWebSockets.js';

/**
 * The benchmark's fake OpenAI-compatible upstream, run as its own process so it never shares an
 * event loop with what it serves. `POST /v1/chat/completions` answers by model:
 *
 * - any model, not streamed: a ~300-byte `chat.completion` with `usage`, at once;
 * - `bench` streamed: 50 `chat.completion.chunk` events, one every BENCH_CHUNK_MS (0: all at once),
 *   then the usage chunk (when `stream_options.include_usage` is set) and `data: [DONE]`;
 * - `bench-slow` streamed: one chunk every BENCH_SLOW_CHUNK_MS until BENCH_SLOW_MAX_MS, then the
 *   same ending; for holding thousands of streams open.
 *
 * `GET /bench/stats` returns counters (the gateway's upstream calls and the slow streams open now,
 * which shows whether a gateway really holds N upstream streams or queues them).
 */
const port = Number(process.env.BENCH_UPSTREAM_PORT ?? 0);
const chunkMs = Number(process.env.BENCH_CHUNK_MS ?? 2);
const slowChunkMs = Number(process.env.BENCH_SLOW_CHUNK_MS ?? 1000);
const slowMaxMs = Number(process.env.BENCH_SLOW_MAX_MS ?? 120_000);

const CHUNKS = 50;
const USAGE = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };
const STREAM_USAGE = { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS };

const stats = { completions: 0, streams: 0, slowStreams: 0, openSlow: 0, maxOpenSlow: 0, abortedStreams: 0 };
let sequence = 0;

/** Per request: whether the response may still be written, and what to stop when the client leaves. */
interface ResponseState {
  open: boolean;
  onAbort?: () => void;
}

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

function completion(id: string, model: string): string {
  return JSON.stringify({
    id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model, system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog, twice.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: USAGE,
  });
}

/**
 * A content chunk carries the moment it was written (CLOCK_MONOTONIC, which every process on the
 * machine shares), so a client can tell how long each chunk took to reach it through a gateway,
 * apart from this process's own timer jitter.
 */
function streamChunk(id: string, model: string, index: number, last: boolean): string {
  const content = `w${index}@${process.hrtime.bigint()} `;
  const delta = index === 0 ? { role: 'assistant', content } : last ? {} : { content };
  const payload = {
    id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? 'stop' : null }],
  };
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function streamEnd(id: string, model: string, withUsage: boolean): string {
  const usage = withUsage
    ? `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, system_fingerprint: 'fp_bench', choices: [], usage: STREAM_USAGE })}\n\n`
    : '';
  return `${usage}data: [DONE]\n\n`;
}

function respond(res: uWS.HttpResponse, state: ResponseState, raw: Buffer): void {
  let body: ChatBody;
  try {
    body = JSON.parse(raw.toString('utf8')) as ChatBody;
  } catch {
    res.cork(() => res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json').end('{"error":{"message":"bad json"}}'));
    return;
  }
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const id = `chatcmpl-bench${++sequence}`;
  if (body.stream !== true) {
    stats.completions++;
    res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(completion(id, model)));
    return;
  }
  const slow = model === 'bench-slow';
  const withUsage = body.stream_options?.include_usage === true;
  const interval = slow ? slowChunkMs : chunkMs;
  const chunks = slow ? Math.max(2, Math.floor(slowMaxMs / slowChunkMs)) : CHUNKS;
  stats.streams++;
  if (slow) {
    stats.slowStreams++;
    stats.maxOpenSlow = Math.max(stats.maxOpenSlow, ++stats.openSlow);
  }
  let index = 0;
  let timer: NodeJS.Timeout | null = null;
  const finish = (): void => {
    if (slow) stats.openSlow--;
  };
  state.onAbort = () => {
    if (timer) clearTimeout(timer);
    stats.abortedStreams++;
    finish();
  };
  const next = (): void => {
    timer = null;
    if (!state.open) return;
    res.cork(() => {
      // With no interval the whole stream goes out in one corked write.
      do {
        const last = index === chunks - 1;
        res.write(streamChunk(id, model, index, last));
        index++;
        if (last) {
          state.open = false;
          res.end(streamEnd(id, model, withUsage));
          finish();
          return;
        }
      } while (interval === 0);
    });
    if (state.open) timer = setTimeout(next, interval);
  };
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('content-type', 'text/event-stream').writeHeader('cache-control', 'no-cache');
  });
  next();
}

const app = uWS.App();
app.post('/v1/chat/completions', (res) => {
  const state: ResponseState = { open: true };
  res.onAborted(() => {
    state.open = false;
    state.onAbort?.();
  });
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast && state.open) respond(res, state, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
});
app.get('/bench/stats', (res) => {
  res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(JSON.stringify(stats));
});
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end('{"error":{"message":"not found"}}');
});

app.listen('127.0.0.1', port, (socket) => {
  if (!socket) {
    console.error(`fake upstream cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`fake upstream listening on http://127.0.0.1:${uWS.us_socket_local_port(socket)}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
