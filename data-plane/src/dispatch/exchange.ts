import {
  GatewayError,
  type ChatRequest,
  type ChatResponse,
  type ClientFormat,
  type CompletionRequest,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type ImageRequest,
  type ImageResponse,
  type PreparedRequest,
  type StreamDecoder,
  type StreamLimits,
  type TokenCount,
} from '@tollgate/shared';
import type { Candidate } from '../routing/candidate.ts';

/**
 * What one operation (chat, embeddings, legacy completions, ...) asks of a provider, whatever the
 * provider: how to prepare the call, read a whole answer, and decode a stream. The dispatcher and
 * attempts are the same for every operation; only this differs.
 */
export interface Exchange<T> {
  stream: boolean;
  /** Throws GatewayError when this provider cannot express the request (another may). */
  prepare(candidate: Candidate): PreparedRequest;
  /** Throws UpstreamFormatError when the body is not an answer. */
  parse(candidate: Candidate, body: Uint8Array): T;
  /** For streams only. */
  decoder(candidate: Candidate, limits: StreamLimits): StreamDecoder;
  /** The provider answers in the client's own format: its bytes may be forwarded as they came. */
  native(candidate: Candidate): boolean;
}

export function chatExchange(request: ChatRequest, clientFormat: ClientFormat): Exchange<ChatResponse> {
  return {
    stream: request.stream,
    prepare: (c) => {
      const prepared = c.adapter.prepareChat(request, c.target);
      // The client's bytes of `messages` (long bodies only) are a view of its whole body: kept,
      // they would keep it for as long as the answer streams, and V8 would promote it to the old
      // generation first. The first call uses them; a retry or a fallback, which is rare,
      // serialises the same JSON again.
      request.sourceMessages = null;
      return prepared;
    },
    parse: (c, body) => c.adapter.parseChatResponse(body),
    decoder: (c, limits) => c.adapter.newStreamDecoder(limits),
    native: (c) => c.adapter.nativeFormat === clientFormat,
  };
}

/** This provider offers no such endpoint: a 400 if no other candidate can take the request. */
export function notOffered(what: string, candidate: Candidate): GatewayError {
  return new GatewayError('unsupported_parameter', `The provider ${candidate.provider} offers no ${what} for this model.`, 'model');
}

export function embeddingsExchange(request: EmbeddingRequest): Exchange<EmbeddingResponse> {
  const part = (c: Candidate) => c.adapter.embeddings ?? (() => { throw notOffered('embeddings', c); })();
  return {
    stream: false,
    prepare: (c) => part(c).prepare(request, c.target),
    parse: (c, body) => part(c).parse(body),
    decoder: (c) => {
      throw notOffered('streamed embeddings', c);
    },
    // Every adapter with an embeddings part speaks OpenAI's embeddings format.
    native: (c) => c.adapter.nativeFormat === 'openai-chat',
  };
}

export function completionsExchange(request: CompletionRequest): Exchange<ChatResponse> {
  const part = (c: Candidate) => c.adapter.completions ?? (() => { throw notOffered('text completions', c); })();
  return {
    stream: request.stream,
    prepare: (c) => part(c).prepare(request, c.target),
    parse: (c, body) => part(c).parse(body),
    decoder: (c, limits) => part(c).newStreamDecoder(limits),
    native: (c) => c.adapter.nativeFormat === 'openai-chat',
  };
}

export function imagesExchange(request: ImageRequest): Exchange<ImageResponse> {
  const part = (c: Candidate) => c.adapter.images ?? (() => { throw notOffered('image generation', c); })();
  return {
    stream: false,
    prepare: (c) => part(c).prepare(request, c.target),
    parse: (c, body) => {
      // Images past the `n` asked for were not asked for: neither shown nor billed.
      const answer = part(c).parse(body);
      return answer.data.length > request.n ? { ...answer, data: answer.data.slice(0, request.n) } : answer;
    },
    decoder: (c) => {
      throw notOffered('streamed image generation', c);
    },
    // Rendered, never passed through: the client gets exactly the images billed (at most `n`).
    native: () => false,
  };
}

/** A provider's own count of a chat request's input tokens (Anthropic's free `count_tokens`). */
export function countTokensExchange(request: ChatRequest): Exchange<TokenCount> {
  const part = (c: Candidate) => c.adapter.countTokens ?? (() => { throw notOffered('token counting', c); })();
  return {
    stream: false,
    prepare: (c) => part(c).prepare(request, c.target),
    parse: (c, body) => ({ inputTokens: part(c).parse(body) }),
    decoder: (c) => {
      throw notOffered('streamed token counting', c);
    },
    native: () => false,
  };
}
