import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';

/**
 * A programmable, hostile fake of an OpenAI-compatible upstream, for tests of fallback, timeouts,
 * bounds and breakers. It listens on 127.0.0.1 at a random port and speaks the real Chat
 * Completions wire format: a `chat.completion` object, or `chat.completion.chunk` SSE events ending
 * in `data: [DONE]`, with `usage: null` on every chunk and a usage-only chunk (`choices: []`) only
 * when the request asked for it with `stream_options.include_usage`, as OpenAI does.
 *
 * Each request takes the next one-shot script from the queue, else what the responder returns,
 * else the default behaviour:
 *
 *   const up = await startUpstream();                      // default: answer()
 *   up.enqueue(fail(503, { headers: { 'retry-after': '1' } }), resetAfterChunks(2));
 *   up.respondWith((r) => (r.body?.model === 'slow' ? answer({ firstByteDelayMs: 500 }) : undefined));
 *   // ... point the gateway at up.url (it ends in /v1) and send three requests ...
 *   const [first, second, third] = await up.waitForRequests(3);
 *   await up.waitFor(() => second!.outcome !== 'pending');
 *   expect(second!.outcome).toBe('reset');                // the upstream cut it, not the client
 *   expect(third!.abortedAt).toBeNull();                   // the gateway read the answer to the end
 *   await up.close();                                      // also cuts hanging connections
 *
 * Vocabulary: a *chunk* is one write to the response body. A generated stream writes each SSE event
 * (`data: ...\n\n`, including the opening role event and `[DONE]`) as one chunk; a non-streamed
 * answer or error is one chunk; raw bytes are one chunk per piece. `afterChunks: n` acts once n
 * chunks have been written (0: right after the headers); past the last chunk it acts after the last.
 */

import {
  answer,
  DEFAULT_ERROR_BODY,
  type Behavior,
  type BodyShape,
  type EndlessBehavior,
  type HugeBehavior,
  type Interrupt,
  type Responder,
} from './upstream-behaviors.ts';
import { completion, streamEvents, type Ids } from './upstream-wire.ts';

export * from './upstream-behaviors.ts';

/** The request body as parsed JSON; only what the fake reads is named. */
export interface RequestBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: unknown;
  [field: string]: unknown;
}

/**
 * 'completed': the fake ended the body itself (including 'end' and 'error-event' interrupts);
 * 'client-aborted': the client left first (see abortedAt); 'reset': the fake reset the connection;
 * 'capped': an endless stream hit its safety cap; 'closed': close() cut it.
 */
export type Outcome = 'pending' | 'completed' | 'client-aborted' | 'reset' | 'capped' | 'closed';

/** Times are performance.now() in this process, so a test can compare them with its own clock. */
export interface RecordedRequest {
  index: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed body, or null when it was not a JSON object (see rawBody). */
  body: RequestBody | null;
  /** The behaviour chosen; null if the client left before its body arrived (no script consumed). */
  behavior: Behavior['kind'] | null;
  receivedAt: number;
  headersSentAt: number | null;
  /** When the client went away before the response ended; null if it never did. */
  abortedAt: number | null;
  endedAt: number | null;
  outcome: Outcome;
  /** Body bytes (before gzip) and chunks handed to the connection. */
  bytesWritten: number;
  chunksWritten: number;
}

export interface UpstreamStats {
  received: number;
  inFlight: number;
  completed: number;
  clientAborted: number;
  reset: number;
  capped: number;
  closed: number;
}

export interface UpstreamOptions {
  default?: Behavior;
  script?: Behavior[];
  responder?: Responder;
}

export interface FakeUpstream {
  /** Base URL including /v1, for a channel's baseUrl. */
  url: string;
  origin: string;
  requests: readonly RecordedRequest[];
  /** Add one-shot scripts, consumed one per request in order before anything else. */
  enqueue(...behaviors: Behavior[]): void;
  /** Scripts not yet consumed. */
  queued(): number;
  setDefault(behavior: Behavior): void;
  respondWith(responder: Responder | null): void;
  stats(): UpstreamStats;
  /** Resolves once n requests have been received (their bodies read); rejects after timeoutMs. */
  waitForRequests(n: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Resolves once `condition` holds, re-checked whenever a request arrives or ends. */
  waitFor(condition: () => boolean, timeoutMs?: number, description?: string): Promise<void>;
  close(): Promise<void>;
}

type Piece = string | Uint8Array;
const MiB = 1024 * 1024;
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const JSON_HEADERS = { 'content-type': 'application/json' };

/** One request and its response: writes, timing and how it ended, kept in its record. */
class Exchange {
  readonly gone: Promise<false>;
  private readonly left = new AbortController();
  private sink: Gzip | null = null;

  constructor(
    private readonly res: ServerResponse,
    readonly record: RecordedRequest,
    private readonly server: { closing: boolean; notify(): void },
  ) {
    let markGone: () => void = () => {};
    this.gone = new Promise<false>((resolve) => (markGone = () => resolve(false)));
    res.on('finish', () => this.settle('completed'));
    res.on('close', () => {
      if (!res.writableFinished && record.outcome === 'pending') {
        if (server.closing) this.settle('closed');
        else {
          record.abortedAt = performance.now();
          this.settle('client-aborted');
        }
      }
      this.sink?.destroy();
      this.left.abort();
      markGone();
    });
  }

  /** The first way a response ends is the one recorded. */
  settle(outcome: Exclude<Outcome, 'pending'>): void {
    if (this.record.outcome !== 'pending') return;
    this.record.outcome = outcome;
    this.record.endedAt = performance.now();
    this.server.notify();
  }

  head(status: number, headers: Record<string, string>, gzip = false): void {
    const sent: Record<string, string> = { 'x-request-id': `req_fake${this.record.index}`, ...headers };
    if (gzip) {
      delete sent['content-length'];
      sent['content-encoding'] = 'gzip';
    }
    this.res.writeHead(status, sent);
    this.res.flushHeaders();
    this.record.headersSentAt = performance.now();
    if (gzip) {
      this.sink = createGzip();
      this.sink.pipe(this.res);
    }
  }

  /** Resolves true once the piece is handed to the connection, false if the client has left. */
  write(piece: Piece): Promise<boolean> {
    if (this.left.signal.aborted) return Promise.resolve(false);
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
    this.record.bytesWritten += bytes.byteLength;
    this.record.chunksWritten += 1;
    const sink = this.sink;
    const written = new Promise<boolean>((resolve) => {
      // A sync flush per chunk, so a gzipped stream still arrives chunk by chunk.
      if (sink) sink.write(bytes, () => sink.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve(true)));
      else this.res.write(bytes, (error) => resolve(!error));
    });
    return Promise.race([written, this.gone]);
  }

  finish(outcome: 'completed' | 'capped' = 'completed'): void {
    if (outcome !== 'completed') this.settle(outcome);
    if (this.sink) this.sink.end();
    else this.res.end();
  }

  /** Cut the connection: an RST for 'reset', a plain destroy otherwise. */
  cut(outcome: 'reset' | 'capped'): void {
    if (this.res.writableFinished) return;
    this.settle(outcome);
    const socket = this.res.socket;
    if (outcome === 'reset' && socket) socket.resetAndDestroy();
    else this.res.destroy();
  }

  /** Resolves true after ms, or false as soon as the client leaves (so no timer outlives it). */
  async sleep(ms: number): Promise<boolean> {
    if (ms <= 0) return !this.left.signal.aborted;
    try {
      await sleepFor(ms, undefined, { signal: this.left.signal });
      return true;
    } catch {
      return false;
    }
  }
}

async function play(ex: Exchange, pieces: Iterable<Piece>, shape: BodyShape): Promise<void> {
  let written = 0;
  const checkpoint = async (last: boolean): Promise<boolean> => {
    const { stall, interrupt } = shape;
    if (stall && (stall.afterChunks === written || (last && stall.afterChunks > written)) && !(await ex.sleep(stall.ms))) return false;
    if (interrupt && (interrupt.afterChunks === written || (last && interrupt.afterChunks > written))) {
      await runInterrupt(ex, interrupt);
      return false;
    }
    return true;
  };
  for (const piece of pieces) {
    if (!(await checkpoint(false))) return;
    if (written > 0 && !(await ex.sleep(shape.chunkDelayMs ?? 0))) return;
    if (!(await ex.write(piece))) return;
    written += 1;
  }
  if (await checkpoint(true)) ex.finish();
}

async function runInterrupt(ex: Exchange, interrupt: Interrupt): Promise<void> {
  switch (interrupt.action) {
    case 'reset':
      // An RST makes the client drop what it has received but not yet read; give it time to read.
      if (await ex.sleep(interrupt.settleMs ?? 20)) ex.cut('reset');
      return;
    case 'hang':
      await ex.gone;
      return;
    case 'end':
      ex.finish();
      return;
    case 'error-event':
      if (await ex.write(`data: ${JSON.stringify({ error: { param: null, code: null, ...interrupt.error } })}\n\n`)) ex.finish();
      return;
  }
}

/** The body in pieces of at most pieceBytes, reusing one filler buffer so nothing large is held. */
function* hugePieces(b: HugeBehavior, ids: Ids): Generator<Piece> {
  const total = Math.floor(b.megabytes * MiB);
  const pieceBytes = Math.max(1, b.pieceBytes ?? 64 * 1024);
  const json = b.content !== 'garbage';
  const head = json
    ? `{"id":"${ids.id}","object":"chat.completion","created":${ids.created},"model":${JSON.stringify(ids.model)},"choices":[{"index":0,"message":{"role":"assistant","content":"`
    : '';
  const tail = json ? `","refusal":null},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}` : '';
  const filler = Buffer.alloc(pieceBytes, json ? 'a' : '\u0000}{<garbage>\xff');
  if (head) yield head;
  let left = total - Buffer.byteLength(head) - Buffer.byteLength(tail);
  while (left > 0) {
    const size = Math.min(left, pieceBytes);
    yield filler.subarray(0, size);
    left -= size;
  }
  if (tail) yield tail;
}

async function endless(ex: Exchange, b: EndlessBehavior, ids: Ids): Promise<void> {
  const maxBytes = b.maxBytes ?? 8 * MiB;
  ex.head(200, SSE_HEADERS);
  // The time cap destroys rather than ends: a client that stopped reading would never let an end flush.
  const timer = setTimeout(() => ex.cut('capped'), (b.maxSeconds ?? 5) * 1000);
  void ex.gone.then(() => clearTimeout(timer));
  const event = (delta: Record<string, unknown>): string =>
    `data: ${JSON.stringify({ id: ids.id, object: 'chat.completion.chunk', created: ids.created, model: ids.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`;
  const content = event({ content: 'lorem ipsum ' });
  let next = event({ role: 'assistant', content: '' });
  // Bounded: every event adds bytes, and the loop stops before maxBytes.
  while (ex.record.bytesWritten + Buffer.byteLength(next) <= maxBytes) {
    if (ex.record.chunksWritten > 0 && !(await ex.sleep(b.chunkDelayMs ?? 0))) return;
    if (!(await ex.write(next))) return;
    next = content;
  }
  ex.finish('capped');
}

async function respond(ex: Exchange, b: Behavior, ids: Ids, body: RequestBody | null): Promise<void> {
  if (b.kind === 'hang') return;
  if (b.firstByteDelayMs && !(await ex.sleep(b.firstByteDelayMs))) return;
  switch (b.kind) {
    case 'reset':
      ex.cut('reset');
      return;
    case 'fail':
      ex.head(b.status, { ...JSON_HEADERS, ...b.headers }, b.gzip);
      return play(ex, [b.body ?? DEFAULT_ERROR_BODY], {});
    case 'raw':
      ex.head(b.status ?? 200, { 'content-type': 'text/event-stream', ...b.headers }, b.gzip);
      return play(ex, b.pieces, b);
    case 'huge': {
      const length: Record<string, string> = b.declareLength && !b.gzip ? { 'content-length': String(Math.floor(b.megabytes * MiB)) } : {};
      ex.head(200, { ...JSON_HEADERS, ...length }, b.gzip);
      return play(ex, hugePieces(b, ids), { gzip: b.gzip });
    }
    case 'endless':
      return endless(ex, b, ids);
    case 'answer': {
      if (body?.stream !== true) {
        ex.head(200, { ...JSON_HEADERS, ...b.headers }, b.gzip);
        return play(ex, [completion(b, ids)], b);
      }
      const options = body.stream_options;
      const includeUsage = typeof options === 'object' && options !== null && 'include_usage' in options && options.include_usage === true;
      ex.head(200, { ...SSE_HEADERS, ...b.headers }, b.gzip);
      return play(ex, streamEvents(b, ids, includeUsage), b);
    }
  }
}

function parseBody(text: string): RequestBody | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...value };
  } catch {
    // null, with the raw text beside it in the record
  }
  return null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  return Buffer.concat(parts).toString('utf8');
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<FakeUpstream> {
  const queue: Behavior[] = [...(options.script ?? [])];
  let fallback: Behavior = options.default ?? answer();
  let responder: Responder | null = options.responder ?? null;
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const state = {
    closing: false,
    notify(): void {
      for (const waiter of [...waiters]) waiter();
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const record: RecordedRequest = {
      index: -1, method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, rawBody: '', body: null,
      behavior: null, receivedAt: performance.now(), headersSentAt: null, abortedAt: null, endedAt: null, outcome: 'pending',
      bytesWritten: 0, chunksWritten: 0,
    };
    const ex = new Exchange(res, record, state);
    try {
      record.rawBody = await readBody(req);
    } catch {
      // the client left mid-upload; the close listener has recorded it
    }
    record.body = parseBody(record.rawBody);
    record.index = requests.length;
    requests.push(record);
    if (record.outcome !== 'pending') return state.notify();
    const behavior = queue.shift() ?? responder?.(record) ?? fallback;
    record.behavior = behavior.kind;
    state.notify();
    const model = typeof record.body?.model === 'string' ? record.body.model : 'fake-model';
    await respond(ex, behavior, { id: `chatcmpl-fake${record.index}`, created: Math.floor(Date.now() / 1000), model }, record.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const waitFor = (condition: () => boolean, timeoutMs = 2000, description = 'condition'): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        try {
          if (!condition()) return;
          done();
          resolve();
        } catch (error) {
          done();
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake upstream: timed out after ${timeoutMs} ms waiting for ${description} (${requests.length} requests so far)`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    enqueue: (...behaviors) => void queue.push(...behaviors),
    queued: () => queue.length,
    setDefault: (behavior) => void (fallback = behavior),
    respondWith: (next) => void (responder = next),
    stats() {
      const count = (outcome: Outcome): number => requests.filter((r) => r.outcome === outcome).length;
      return {
        received: requests.length, inFlight: count('pending'), completed: count('completed'), clientAborted: count('client-aborted'),
        reset: count('reset'), capped: count('capped'), closed: count('closed'),
      };
    },
    async waitForRequests(n, timeoutMs = 2000) {
      await waitFor(() => requests.length >= n, timeoutMs, `${n} requests`);
      return requests;
    },
    waitFor,
    close() {
      if (state.closing) return Promise.resolve();
      state.closing = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
