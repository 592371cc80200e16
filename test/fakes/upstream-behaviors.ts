/**
 * What a test tells the fake upstream (upstream.ts) to do with a request: answer (streamed or not,
 * with usage, tool calls and interruptions), fail, hang, reset, send a huge or endless body, or raw
 * bytes. Plain data and the small constructors that build it; upstream.ts carries them out.
 */

import type { RecordedRequest } from './upstream.ts';

/** Looks like a provider key so a test can prove an upstream error body never reaches the client. */
export const UPSTREAM_SECRET = 'sk-upstream-LEAK-7f3a9c1e5b2d4f60a8';
export const DEFAULT_ERROR_BODY = JSON.stringify({
  error: { message: `The server is overloaded (key ${UPSTREAM_SECRET}).`, type: 'server_error', param: null, code: null },
});
export const DEFAULT_STREAM_ERROR: ProviderError = { message: `Internal error (key ${UPSTREAM_SECRET})`, type: 'server_error', code: null };

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Sent as `prompt_tokens_details.cached_tokens`; the details object is omitted when undefined. */
  cachedTokens?: number;
  /** Sent as `completion_tokens_details.reasoning_tokens`; omitted when undefined. */
  reasoningTokens?: number;
}

export interface ToolCall {
  name: string;
  /** The complete arguments JSON text; streamed in `argumentChunks` pieces (default 3). */
  arguments: string;
  id?: string;
  argumentChunks?: number;
}

export interface ProviderError {
  message: string;
  type: string;
  code?: string | null;
}

/** What happens once `afterChunks` chunks have been written, instead of the rest of the body. */
export type Interrupt =
  /** Reset the TCP connection (RST), after `settleMs` (default 20) so the client can read what it got. */
  | { afterChunks: number; action: 'reset'; settleMs?: number }
  /** Stall forever: nothing more until the client leaves or the fake closes. */
  | { afterChunks: number; action: 'hang' }
  /** End the body cleanly there (a truncated stream, e.g. without `[DONE]`). */
  | { afterChunks: number; action: 'end' }
  /** Send OpenAI's in-stream error event `data: {"error":{...}}` and end the body. */
  | { afterChunks: number; action: 'error-event'; error: ProviderError };

export interface Timing {
  /** Wait this long before sending the status line and headers (a slow first byte). */
  firstByteDelayMs?: number;
}

export interface BodyShape extends Timing {
  /** Wait this long between consecutive chunks. */
  chunkDelayMs?: number;
  /** Pause once, for `ms`, after `afterChunks` chunks. */
  stall?: { afterChunks: number; ms: number };
  interrupt?: Interrupt;
  /** Compress with `content-encoding: gzip`, whatever the request's accept-encoding says. */
  gzip?: boolean;
}

export interface AnswerBehavior extends BodyShape {
  kind: 'answer';
  /** Default 'Hello!'. Streamed as exactly `chunks` content events (default 3); none if ''. */
  reply?: string;
  chunks?: number;
  /** Default { promptTokens: 9, completionTokens: 3 }; null reports none. */
  usage?: Usage | null;
  /** Parallel tool calls, streamed one after another after the content; finish_reason `tool_calls`. */
  toolCalls?: ToolCall[];
  /** Default 'stop' ('tool_calls' with tool calls). */
  finishReason?: string;
  headers?: Record<string, string>;
}

export interface FailBehavior extends Timing {
  kind: 'fail';
  status: number;
  /** Default DEFAULT_ERROR_BODY, which contains UPSTREAM_SECRET. */
  body?: string;
  /** Extra headers, e.g. { 'retry-after': '1' }; they override the JSON content-type. */
  headers?: Record<string, string>;
  gzip?: boolean;
}

export interface HangBehavior {
  kind: 'hang';
}

/** Reset the connection before any response byte (after `firstByteDelayMs`, if given). */
export interface ResetBehavior extends Timing {
  kind: 'reset';
}

/** A non-streamed body of exactly floor(megabytes * 2^20) bytes, written in pieces as they are sent. */
export interface HugeBehavior extends Timing {
  kind: 'huge';
  megabytes: number;
  /** 'json' (default): a valid chat.completion whose content fills the size; 'garbage': not JSON at all. */
  content?: 'json' | 'garbage';
  /** Send content-length (ignored with gzip). Default false: chunked. */
  declareLength?: boolean;
  /** Bytes per write; default 64 KiB. */
  pieceBytes?: number;
  gzip?: boolean;
}

/** Valid content events until the client leaves, or a safety cap stops it (outcome 'capped'). */
export interface EndlessBehavior extends Timing {
  kind: 'endless';
  /** Stop writing (and end the body) before exceeding this many body bytes. Default 8 MiB. */
  maxBytes?: number;
  /** Destroy the connection after this long, even if the client has stopped reading. Default 5. */
  maxSeconds?: number;
  chunkDelayMs?: number;
}

/** These pieces verbatim, one chunk each, whatever the request asked for. */
export interface RawBehavior extends BodyShape {
  kind: 'raw';
  pieces: ReadonlyArray<string | Uint8Array>;
  /** Default 200. */
  status?: number;
  /** Merged over { 'content-type': 'text/event-stream' }. */
  headers?: Record<string, string>;
}

export type Behavior = AnswerBehavior | FailBehavior | HangBehavior | ResetBehavior | HugeBehavior | EndlessBehavior | RawBehavior;
export type AnswerOptions = Omit<AnswerBehavior, 'kind'>;
/** Return undefined to fall through to the default behaviour. */
export type Responder = (request: RecordedRequest) => Behavior | undefined;

export const answer = (options: AnswerOptions = {}): AnswerBehavior => ({ kind: 'answer', ...options });
export const fail = (status: number, options: Omit<FailBehavior, 'kind' | 'status'> = {}): FailBehavior => ({ kind: 'fail', status, ...options });
export const hang = (): HangBehavior => ({ kind: 'hang' });
export const resetConnection = (options: Timing = {}): ResetBehavior => ({ kind: 'reset', ...options });
export const resetAfterChunks = (afterChunks: number, options: AnswerOptions = {}): AnswerBehavior =>
  answer({ ...options, interrupt: { afterChunks, action: 'reset' } });
export const stallAfterChunks = (afterChunks: number, ms: number, options: AnswerOptions = {}): AnswerBehavior =>
  answer({ ...options, stall: { afterChunks, ms } });
export const stallForeverAfterChunks = (afterChunks: number, options: AnswerOptions = {}): AnswerBehavior =>
  answer({ ...options, interrupt: { afterChunks, action: 'hang' } });
export const errorEventAfterChunks = (afterChunks: number, error: ProviderError = DEFAULT_STREAM_ERROR, options: AnswerOptions = {}): AnswerBehavior =>
  answer({ ...options, interrupt: { afterChunks, action: 'error-event', error } });
export const hugeBody = (megabytes: number, options: Omit<HugeBehavior, 'kind' | 'megabytes'> = {}): HugeBehavior =>
  ({ kind: 'huge', megabytes, ...options });
export const endlessStream = (options: Omit<EndlessBehavior, 'kind'> = {}): EndlessBehavior => ({ kind: 'endless', ...options });
export const rawBytes = (pieces: ReadonlyArray<string | Uint8Array>, options: Omit<RawBehavior, 'kind' | 'pieces'> = {}): RawBehavior =>
  ({ kind: 'raw', pieces, ...options });
