import { errors as undiciErrors, type Dispatcher } from 'undici';
import { GatewayError } from '@tollgate/shared';
import { formatSseEvent, SseParser } from '../http/sse.ts';
import type { Headers, Reply } from '../http/reply.ts';
import type { ProviderAdapter, ReportedUsage, UpstreamRequest } from '../providers/adapter.ts';
import type { Pool } from 'undici';

/** How a forwarded request ended, for metering. */
export interface ForwardOutcome {
  status: 'ok' | 'upstream_error' | 'client_aborted';
  httpStatus: number;
  usage: ReportedUsage | null;
  /** Generated text the client received, for the estimate when no usage was reported. */
  text: string;
  /**
   * Whether an estimate may be billed when no usage was reported. False when the upstream failed
   * before delivering anything (connect error, timeout, non-2xx, unreadable body) or was never
   * called: such requests cost nothing.
   */
  billable: boolean;
}

export interface ForwardInput {
  pool: Pool;
  request: UpstreamRequest;
  adapter: ProviderAdapter;
  reply: Reply;
  headers: Headers;
  wantsUsage: boolean;
  headersTimeoutMs: number;
  /** Called with the cost header once usage is known, for non-streamed responses. */
  costHeader: (usage: ReportedUsage | null, text: string) => string;
}

const SSE_HEADERS: Headers = [
  ['content-type', 'text/event-stream; charset=utf-8'],
  ['cache-control', 'no-cache'],
];

/** Maps a provider's failure to our error; the provider's own body is never passed on. */
function upstreamStatusError(status: number): GatewayError {
  if (status === 429) return new GatewayError('rate_limited', 'The upstream provider is rate limiting requests; retry later.');
  if (status === 400 || status === 422) {
    return new GatewayError('invalid_request', `The upstream provider rejected the request as invalid (HTTP ${status}).`);
  }
  return new GatewayError('upstream_error', `The upstream provider failed (HTTP ${status}).`);
}

function transportError(error: unknown): GatewayError {
  if (error instanceof undiciErrors.HeadersTimeoutError) {
    return new GatewayError('upstream_timeout', 'The upstream provider did not answer in time.');
  }
  return new GatewayError('upstream_error', 'The upstream provider could not be reached.');
}

export async function forward(input: ForwardInput, stream: boolean): Promise<ForwardOutcome> {
  const { reply } = input;
  // The client may have left while we authenticated and reserved: then there is nothing to call.
  if (reply.wasAborted) return { status: 'client_aborted', httpStatus: 499, usage: null, text: '', billable: false };
  const controller = new AbortController();
  reply.onAbort(() => controller.abort());
  let response: Dispatcher.ResponseData;
  try {
    response = await input.pool.request({
      path: input.request.path,
      method: 'POST',
      headers: input.request.headers,
      body: input.request.body,
      signal: controller.signal,
      headersTimeout: input.headersTimeoutMs,
    });
  } catch (error) {
    if (reply.wasAborted) return { status: 'client_aborted', httpStatus: 499, usage: null, text: '', billable: true };
    const failure = transportError(error);
    reply.sendError(failure, input.headers);
    return { status: 'upstream_error', httpStatus: failure.status, usage: null, text: '', billable: false };
  }
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump().catch(() => {});
    const failure = upstreamStatusError(response.statusCode);
    reply.sendError(failure, input.headers);
    return { status: 'upstream_error', httpStatus: failure.status, usage: null, text: '', billable: false };
  }
  return stream ? relayStream(input, response, controller) : relayWhole(input, response);
}

async function relayWhole(input: ForwardInput, response: Dispatcher.ResponseData): Promise<ForwardOutcome> {
  const { reply } = input;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.body.arrayBuffer());
  } catch {
    if (reply.wasAborted) return { status: 'client_aborted', httpStatus: 499, usage: null, text: '', billable: true };
    reply.sendError(new GatewayError('upstream_error', 'The upstream response was cut off.'), input.headers);
    return { status: 'upstream_error', httpStatus: 502, usage: null, text: '', billable: false };
  }
  let parsed;
  try {
    parsed = input.adapter.parseResponse(bytes);
  } catch {
    reply.sendError(new GatewayError('upstream_error', 'The upstream provider sent a response that is not valid JSON.'), input.headers);
    return { status: 'upstream_error', httpStatus: 502, usage: null, text: '', billable: false };
  }
  if (reply.wasAborted) return { status: 'client_aborted', httpStatus: 499, usage: parsed.usage, text: parsed.text, billable: true };
  reply.sendJson(200, [...input.headers, ['x-tollgate-cost', input.costHeader(parsed.usage, parsed.text)]], bytes);
  return { status: 'ok', httpStatus: 200, usage: parsed.usage, text: parsed.text, billable: true };
}

/**
 * Passes the event stream through as it arrives. Events are parsed (for usage, and to drop the
 * usage chunk a client did not ask for) and written back per upstream chunk; when the client reads
 * slower than the upstream writes, the upstream body is paused until uWS drains.
 */
function relayStream(input: ForwardInput, response: Dispatcher.ResponseData, controller: AbortController): Promise<ForwardOutcome> {
  const { reply, adapter, wantsUsage } = input;
  const body = response.body;
  const parser = new SseParser();
  let usage: ReportedUsage | null = null;
  let text = '';
  reply.begin(200, [...input.headers, ...SSE_HEADERS]);

  const relay = (events: ReturnType<SseParser['push']>): boolean => {
    let out = '';
    for (const event of events) {
      const info = adapter.parseStreamEvent(event, wantsUsage);
      text += info.text;
      if (info.usage) usage = info.usage;
      if (info.forward) out += formatSseEvent(event);
    }
    return out.length === 0 || reply.write(out);
  };

  return new Promise<ForwardOutcome>((resolve) => {
    let done = false;
    const finish = (status: ForwardOutcome['status']): void => {
      if (done) return;
      done = true;
      // The 200 status line went out before the first event, whatever happened after. An upstream
      // that broke before producing anything costs nothing, as when it fails before the stream.
      const billable = status !== 'upstream_error' || usage !== null || text.length > 0;
      resolve({ status, httpStatus: 200, usage, text, billable });
    };
    body.on('data', (chunk: Buffer) => {
      let writable: boolean;
      try {
        writable = relay(parser.push(chunk));
      } catch (error) {
        // A throw escaping this listener would crash the process; treat it as a broken upstream.
        body.destroy(error instanceof Error ? error : new Error('stream relay failed'));
        return;
      }
      if (!writable) {
        body.pause();
        reply.whenWritable(() => body.resume());
      }
    });
    body.on('end', () => {
      relay(parser.end());
      reply.end();
      finish('ok');
    });
    body.on('error', () => {
      if (reply.wasAborted || controller.signal.aborted) {
        finish('client_aborted');
        return;
      }
      // Headers are sent: the client sees the stream end early; it is billed for what it got.
      reply.end();
      finish('upstream_error');
    });
    // A destroyed body may emit only 'close': settle on it too, so no request goes unsettled.
    body.on('close', () => {
      if (done) return;
      if (!reply.wasAborted) reply.end();
      finish(reply.wasAborted ? 'client_aborted' : 'upstream_error');
    });
    reply.onAbort(() => body.destroy());
  });
}
