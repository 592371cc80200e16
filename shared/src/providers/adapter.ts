import type { ChatRequest, ChatResponse } from '../canonical/chat.ts';
import type { CompletionRequest } from '../canonical/completions.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../canonical/embeddings.ts';
import type { ImageRequest, ImageResponse } from '../canonical/images.ts';
import type { StreamEvent } from '../canonical/events.ts';
import type { ChannelProtocol, ProviderId } from './catalog.ts';
import type { Credential } from './credentials.ts';

/** The wire formats clients speak to the gateway (one ingress codec each). */
export type ClientFormat =
  | 'openai-chat'
  | 'anthropic-messages'
  | 'openai-responses'
  | 'openai-embeddings'
  | 'openai-completions'
  | 'openai-images'
  | 'anthropic-count-tokens';

/** Where and as whom one upstream call goes. */
export interface UpstreamTarget {
  provider: ProviderId;
  /** `scheme://host:port`: the key of the connection pool. */
  origin: string;
  /** The base URL's path without a trailing slash, e.g. `/v1`. */
  basePath: string;
  upstreamModel: string;
  credential: Credential;
  extraHeaders: Readonly<Record<string, string>>;
}

export interface PreparedRequest {
  method: 'GET' | 'POST';
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Text, or bytes when part of the client's body passes through as it came (`encodeWithSource`). */
  body: string | Uint8Array | null;
}

/** One frame of an upstream stream, decoded. */
export interface DecodedFrame {
  events: StreamEvent[];
  /**
   * The frame as the provider sent it, for the passthrough path (client format = provider format);
   * null for frames that carry nothing to pass on (comments, keep-alives).
   */
  raw: string | null;
  /** The provider's end-of-stream marker: never forwarded, the client's codec writes its own. */
  terminal: boolean;
}

/** Bytes in, frames out, whatever the chunk boundaries; bounded per frame. */
export interface StreamDecoder {
  /** Throws UpstreamFormatError when a frame exceeds the limit. */
  push(chunk: Uint8Array): DecodedFrame[];
  end(): DecodedFrame[];
}

/**
 * An upstream sent something that is not an answer of its protocol. `tooLarge` marks one that
 * passed a size bound (a frame or message over the limit): a different, non-retryable failure.
 */
export class UpstreamFormatError extends Error {
  override name = 'UpstreamFormatError';
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** An upstream response's headers as the HTTP client hands them over (undici: lower-case names). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface StreamLimits {
  /** Largest single frame (one SSE event), in characters. */
  maxFrameChars: number;
}

/**
 * One adapter per wire protocol (DESIGN.md, "Data plane pipeline"): prepare the upstream request
 * from the canonical request and a typed credential, an optional signing step, a stream decoder
 * (frame decoder + per-stream state) and parsing into canonical answers. Adapters are pure: no
 * I/O, no timers; the data plane's dispatcher does the calling.
 */
export interface ProviderAdapter {
  readonly protocol: ChannelProtocol;
  /** The client format this provider speaks byte for byte, enabling the passthrough path. */
  readonly nativeFormat: ClientFormat | null;
  prepareChat(request: ChatRequest, target: UpstreamTarget): PreparedRequest;
  /** Signs a prepared request (SigV4); adapters whose credential is a header need none. */
  sign?(request: PreparedRequest, credential: Credential, now: Date): PreparedRequest;
  /** Throws UpstreamFormatError when the body is not an answer of this protocol. */
  parseChatResponse(body: Uint8Array): ChatResponse;
  newStreamDecoder(limits: StreamLimits): StreamDecoder;
  /**
   * The provider's error, for operators: its own type/code/message with anything secret-looking
   * masked and the length bounded. Never sent to clients. `headers` for providers that name the
   * error there (AWS's `x-amzn-ErrorType`).
   */
  describeError(status: number, body: Uint8Array, headers?: ResponseHeaders): string;
  /** Embeddings, for providers that offer them (absent: the provider cannot serve the endpoint). */
  embeddings?: {
    prepare(request: EmbeddingRequest, target: UpstreamTarget): PreparedRequest;
    parse(body: Uint8Array): EmbeddingResponse;
  };
  /** Legacy text completions, answered as chat responses and stream events; for providers that still offer them. */
  completions?: {
    prepare(request: CompletionRequest, target: UpstreamTarget): PreparedRequest;
    parse(body: Uint8Array): ChatResponse;
    newStreamDecoder(limits: StreamLimits): StreamDecoder;
  };
  /** Image generation, for providers that offer it; answers are priced per image, not per token. */
  images?: {
    prepare(request: ImageRequest, target: UpstreamTarget): PreparedRequest;
    parse(body: Uint8Array): ImageResponse;
  };
  /**
   * The provider's own count of a chat request's input tokens (Anthropic's free `count_tokens`);
   * for providers without one the gateway counts with its tokenizer.
   */
  countTokens?: {
    prepare(request: ChatRequest, target: UpstreamTarget): PreparedRequest;
    /** Throws UpstreamFormatError when the body holds no count. */
    parse(body: Uint8Array): number;
  };
}
