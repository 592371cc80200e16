import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The HTTP side shared by the protocol fakes (anthropic.ts, gemini.ts, bedrock.ts,
 * openai-responses.ts): a server on 127.0.0.1 and a random port that records every request as it
 * arrived (path and query as sent, headers, raw body bytes) and answers it with what the fake's
 * `respond` makes of it and of the next scripted answer. Each piece of a reply is one write, so a
 * stream reaches the gateway in several chunks.
 */
export interface SeenRequest {
  method: string;
  /** The path without the query, as it was on the wire (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** The body as JSON; null when it was not JSON. */
  body: unknown;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  pieces: ReadonlyArray<string | Uint8Array>;
}

export interface ProtocolServer<A> {
  origin: string;
  requests: readonly SeenRequest[];
  /** Answers for the next requests, one each, in order. */
  enqueue(...answers: A[]): void;
  /** Answers not yet used. */
  queued(): number;
  close(): Promise<void>;
}

/** `next()` takes the next scripted answer; a request with none left gets a 500 naming the fake. */
export type Respond<A> = (request: SeenRequest, next: () => A) => Reply;

class NothingQueued extends Error {}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, pieces: [JSON.stringify(body)] };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  return Buffer.concat(parts);
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
}

async function write(res: ServerResponse, reply: Reply): Promise<void> {
  res.writeHead(reply.status, reply.headers);
  res.flushHeaders();
  for (const piece of reply.pieces) {
    const ok = await new Promise<boolean>((resolve) => res.write(piece, (error) => resolve(!error)));
    if (!ok) return;
  }
  res.end();
}

export async function startProtocolServer<A>(name: string, respond: Respond<A>): Promise<ProtocolServer<A>> {
  const queue: A[] = [];
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://fake');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: (req.url ?? '/').split('?')[0]!,
        query: url.searchParams,
        headers: { ...req.headers },
        raw,
        body: parseJson(raw),
      };
      requests.push(seen);
      let reply: Reply;
      try {
        reply = respond(seen, () => {
          const answer = queue.shift();
          if (answer === undefined) throw new NothingQueued();
          return answer;
        });
      } catch (error) {
        if (!(error instanceof NothingQueued)) throw error;
        reply = jsonReply(500, { message: `fake ${name}: no answer queued for ${seen.method} ${seen.path}` });
      }
      await write(res, reply);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...answers) => void queue.push(...answers),
    queued: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Exactly `parts` pieces of a text (some may be empty when it is short), for deltas. */
export function split(text: string, parts: number): string[] {
  return Array.from({ length: parts }, (_, i) => text.slice(Math.floor((i * text.length) / parts), Math.floor(((i + 1) * text.length) / parts)));
}
