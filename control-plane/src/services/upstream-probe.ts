import { performance } from 'node:perf_hooks';
import {
  adapterFor,
  guardedConnector,
  NO_SAMPLING,
  providerInfo,
  sanitiseProviderText,
  UpstreamAddressError,
  UpstreamFormatError,
  type ChannelTimeouts,
  type ChatRequest,
  type Credential,
  type ProviderId,
  type UpstreamNetwork,
} from '@tollgate/shared';
import { Agent, buildConnector, request } from 'undici';
import { UnsupportedProtocolError } from '../errors.ts';

/** What a test call found: for operators, never for customers' end users. */
export interface ProbeResult {
  ok: boolean;
  /** The upstream's HTTP status, when it answered. */
  status: number | null;
  /** From sending the request to the last byte of the answer. */
  latencyMs: number;
  /** Why it failed, sanitised (no secret, no body echo); null when ok. */
  error: string | null;
  /** The model name sent upstream. */
  upstreamModel: string;
}

export interface ProbeTarget {
  provider: ProviderId;
  baseUrl: string;
  credential: Credential;
  upstreamModel: string;
  extraHeaders: Readonly<Record<string, string>>;
  timeouts: ChannelTimeouts;
  /** Where the call may connect: checked on the address of the connection, as the data plane does. */
  network: UpstreamNetwork;
}

/** A test waits at most this long whatever the channel allows: it holds a GraphQL request open. */
export const PROBE_MAX_TOTAL_MS = 60_000;
/** An answer to a one-token request is small; anything larger is read no further. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The smallest real request: one user word, one output token, not streamed. */
function probeRequest(model: string): ChatRequest {
  return {
    model,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'ping' }], name: null }],
    tools: [],
    toolChoice: null,
    parallelToolCalls: null,
    responseFormat: null,
    sampling: NO_SAMPLING,
    maxOutputTokens: 1,
    n: 1,
    stream: false,
    includeUsage: false,
    reasoningEffort: null,
    user: null,
  };
}

/**
 * Makes a minimal real call through the provider's adapter, the same request preparation the data
 * plane uses, with the channel's timeouts. Protocols without an adapter throw
 * UnsupportedProtocolError before anything is sent.
 */
export async function probeChat(target: ProbeTarget): Promise<ProbeResult> {
  const adapter = adapterFor(providerInfo(target.provider).protocol);
  if (!adapter) throw new UnsupportedProtocolError(providerInfo(target.provider).protocol);
  const url = new URL(target.baseUrl);
  let prepared = adapter.prepareChat(probeRequest(target.upstreamModel), {
    provider: target.provider,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    upstreamModel: target.upstreamModel,
    credential: target.credential,
    extraHeaders: target.extraHeaders,
  });
  if (adapter.sign) prepared = adapter.sign(prepared, target.credential, new Date());

  const { timeouts } = target;
  const totalMs = Math.min(timeouts.totalMs, PROBE_MAX_TOTAL_MS);
  // undici's request never follows a redirect: a 3xx is reported as the answer it is.
  const agent = new Agent({
    connect: guardedConnector(target.network, (lookup) => buildConnector({ timeout: timeouts.connectMs, lookup })),
    headersTimeout: timeouts.firstByteMs,
    bodyTimeout: timeouts.idleMs,
  });
  const signal = AbortSignal.timeout(totalMs);
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const result = (ok: boolean, status: number | null, error: string | null): ProbeResult => ({ ok, status, latencyMs: elapsed(), error, upstreamModel: target.upstreamModel });
  try {
    const response = await request(`${prepared.origin}${prepared.path}`, {
      method: prepared.method,
      headers: prepared.headers,
      body: prepared.body,
      dispatcher: agent,
      signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).byteLength;
      if (size > MAX_BODY_BYTES) {
        response.body.destroy();
        return result(false, response.statusCode, `the answer was larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    if (response.statusCode < 200 || response.statusCode > 299) return result(false, response.statusCode, adapter.describeError(response.statusCode, body));
    let choices: number;
    try {
      choices = adapter.parseChatResponse(body).choices.length;
    } catch (error) {
      if (!(error instanceof UpstreamFormatError)) throw error;
      return result(false, response.statusCode, `HTTP ${response.statusCode}, but not a chat completion: ${sanitiseProviderText(error.message)}`);
    }
    // Adapters read leniently; an answer without a single choice answered nothing.
    if (choices === 0) return result(false, response.statusCode, `HTTP ${response.statusCode}, but not a chat completion: no choices`);
    return result(true, response.statusCode, null);
  } catch (error) {
    return result(false, null, signal.aborted ? `no complete answer within ${totalMs} ms` : networkFailure(error, timeouts));
  } finally {
    await agent.destroy();
  }
}

/** A transport failure in words; the error's own text may carry a URL, so only its code is used. */
function networkFailure(error: unknown, timeouts: ChannelTimeouts): string {
  // Names the host as configured and the kind of address, never the address a name resolved to.
  if (error instanceof UpstreamAddressError) return `upstream address not allowed: ${error.message}; nothing was sent`;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect within ${timeouts.connectMs} ms`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response within ${timeouts.firstByteMs} ms (first-byte timeout)`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `the answer stalled for ${timeouts.idleMs} ms (idle timeout)`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name did not resolve';
    default:
      return typeof code === 'string' ? `network error (${sanitiseProviderText(code)})` : 'network error';
  }
}
