import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake OpenAI-compatible upstream for tests, on 127.0.0.1 and a random port, speaking the real
 * Chat Completions wire format: a `chat.completion` JSON object, or `chat.completion.chunk` SSE
 * events ending in `data: [DONE]`, with the usage-only chunk only when the request asked for it
 * (`stream_options.include_usage`), as OpenAI does.
 *
 *   const fake = await startFakeOpenAI({ reply: 'Hi', usage: { promptTokens: 10, completionTokens: 2 } });
 *   fake.url              // base URL including /v1, for a channel's baseUrl
 *   fake.requests         // every request received: path, headers, parsed body, aborted
 *   fake.setBehavior({ status: 500, errorBody: '...' })   // change what later requests get
 *   fake.setBehavior({ chunks: 40, chunkDelayMs: 25 })     // a slow stream, to abort mid-way
 *   fake.setBehavior({ hang: true })                       // never answer, to test timeouts
 *   fake.setBehavior({ rawStream: ['data: null\n\n'] })    // stream these bytes verbatim
 *   fake.reset()                                           // back to the starting behavior
 *   await fake.close()                                     // also cuts hanging requests
 */
export interface FakeBehavior {
  /** The assistant's reply; streamed as `chunks` pieces. */
  reply: string;
  /** Usage to report, or null to report none (like a provider that omits it). */
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Answer with this status and `errorBody` instead of a completion. */
  status: number;
  errorBody: string;
  /** Stream the reply in this many chunks, waiting `chunkDelayMs` before each. */
  chunks: number;
  chunkDelayMs: number;
  /** Never answer (for timeouts); the request still gets recorded. */
  hang: boolean;
  /**
   * For streamed requests, write these raw pieces verbatim (each after `chunkDelayMs`) instead of
   * the generated events, then end: to send malformed events or cut a stream short. Null: normal.
   */
  rawStream: string[] | null;
}

/** A request body as parsed JSON; the fields the fake itself reads are typed, the rest unknown. */
export interface RecordedBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  /** The parsed JSON body; `{}` when it was not a JSON object (see `rawBody`). */
  body: RecordedBody;
  rawBody: string;
  /** The client (the gateway) went away before the response finished. */
  aborted: boolean;
}

export interface FakeOpenAI {
  url: string;
  requests: RecordedRequest[];
  setBehavior(change: Partial<FakeBehavior>): void;
  /** Back to the behavior it was started with; recorded requests are kept. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: FakeBehavior = {
  reply: 'Hello!',
  usage: { promptTokens: 9, completionTokens: 3 },
  status: 200,
  errorBody: '{"error":{"message":"upstream failure","type":"server_error"}}',
  chunks: 3,
  chunkDelayMs: 0,
  hang: false,
  rawStream: null,
};

function split(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function usageJson(usage: FakeBehavior['usage']) {
  return usage
    ? { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens }
    : undefined;
}

function parseBody(text: string): RecordedBody {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as RecordedBody;
  } catch {
    // recorded as {} with the raw text beside it; the test asserts on either
  }
  return {};
}

export async function startFakeOpenAI(initial: Partial<FakeBehavior> = {}): Promise<FakeOpenAI> {
  let behavior: FakeBehavior = { ...DEFAULTS, ...initial };
  const requests: RecordedRequest[] = [];
  let sequence = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const body = parseBody(rawBody);
    const record: RecordedRequest = {
      method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } as Record<string, string | undefined>, body, rawBody, aborted: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    const b = behavior;
    if (b.hang) return;
    if (b.status !== 200) {
      res.writeHead(b.status, { 'content-type': 'application/json' }).end(b.errorBody);
      return;
    }
    const id = `chatcmpl-fake${++sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model ?? 'unknown');
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id, object: 'chat.completion', created, model,
          choices: [{ index: 0, message: { role: 'assistant', content: b.reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: usageJson(b.usage),
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (b.rawStream) {
      for (const piece of b.rawStream) {
        if (b.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, b.chunkDelayMs));
        if (res.destroyed) return;
        res.write(piece);
      }
      res.end();
      return;
    }
    const event = (payload: unknown): void => void res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    event(chunk({ role: 'assistant', content: '' }, null));
    for (const piece of split(b.reply, b.chunks)) {
      if (b.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, b.chunkDelayMs));
      if (res.destroyed) return;
      event(chunk({ content: piece }, null));
    }
    event(chunk({}, 'stop'));
    if (body.stream_options?.include_usage === true && b.usage) {
      event({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage: usageJson(b.usage) });
    }
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setBehavior(change) {
      behavior = { ...behavior, ...change };
    },
    reset() {
      behavior = { ...DEFAULTS, ...initial };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
