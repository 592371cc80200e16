import { jsonReply, split, startProtocolServer, type ProtocolServer, type Reply } from './protocol-server.ts';

/**
 * A fake Google AI Studio Gemini API, speaking the wire format of the Gemini API reference:
 * `POST /v1beta/models/{model}:generateContent` answers one GenerateContentResponse;
 * `:streamGenerateContent?alt=sse` answers the same as SSE chunks (`data: ...` lines ended by
 * CRLF CRLF, no end marker), each a whole GenerateContentResponse: text parts in two pieces, each
 * function call whole in its own chunk, usage so far on every chunk, and the finish reason and the
 * final usage on the last. Every chunk repeats `modelVersion` and `responseId`, as Gemini does.
 *
 * The key must come in the `x-goog-api-key` header; anything else gets Google's 400 for an invalid
 * key. A `key=` query parameter is recorded like any request (tests assert there is none).
 */
export type GeminiPart =
  | { text: string; thought?: boolean }
  | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string };

export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

export interface GeminiAnswer {
  /** Default: one of the fake's own, new for each answer. */
  responseId?: string;
  parts: GeminiPart[];
  finishReason: 'STOP' | 'MAX_TOKENS' | 'SAFETY';
  usageMetadata: GeminiUsage;
}

export interface GeminiFake extends ProtocolServer<GeminiAnswer> {
  /** Base URL for a channel (ends in /v1beta). */
  url: string;
}

const INVALID_KEY = {
  error: {
    code: 400,
    message: 'API key not valid. Please pass a valid API key.',
    status: 'INVALID_ARGUMENT',
    details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
  },
};

function usageMetadata(u: GeminiUsage): Record<string, unknown> {
  return { ...u, totalTokenCount: u.promptTokenCount + u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0) };
}

function stream(answer: GeminiAnswer, ids: { modelVersion: string; responseId: string }): Reply {
  const chunks: GeminiPart[][] = answer.parts.flatMap((part): GeminiPart[][] => ('text' in part ? split(part.text, 2).map((text) => [{ ...part, text }]) : [[part]]));
  // Early chunks report the prompt (and any thoughts) only, as Gemini's do.
  const early = { promptTokenCount: answer.usageMetadata.promptTokenCount, ...(answer.usageMetadata.cachedContentTokenCount !== undefined ? { cachedContentTokenCount: answer.usageMetadata.cachedContentTokenCount } : {}) };
  const pieces = chunks.map((parts, i) => {
    const last = i === chunks.length - 1;
    const candidate = { content: { parts, role: 'model' }, ...(last ? { finishReason: answer.finishReason } : {}), index: 0 };
    const usage = last ? usageMetadata(answer.usageMetadata) : { ...early, totalTokenCount: early.promptTokenCount };
    return `data: ${JSON.stringify({ candidates: [candidate], usageMetadata: usage, ...ids })}\r\n\r\n`;
  });
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, pieces };
}

export async function startGemini(options: { apiKey: string }): Promise<GeminiFake> {
  let count = 0;
  const server = await startProtocolServer<GeminiAnswer>('gemini', (request, next) => {
    const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(request.path);
    if (request.method !== 'POST' || match === null) return jsonReply(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
    if (request.headers['x-goog-api-key'] !== options.apiKey) return jsonReply(400, INVALID_KEY);
    const answer = next();
    const ids = { modelVersion: decodeURIComponent(match[1]!), responseId: answer.responseId ?? `GmnFakeResp${++count}` };
    if (match[2] === 'streamGenerateContent') {
      if (request.query.get('alt') !== 'sse') return jsonReply(400, { error: { code: 400, message: 'this fake streams SSE only (alt=sse)', status: 'INVALID_ARGUMENT' } });
      return stream(answer, ids);
    }
    return jsonReply(200, {
      candidates: [{ content: { parts: answer.parts, role: 'model' }, finishReason: answer.finishReason, index: 0 }],
      usageMetadata: usageMetadata(answer.usageMetadata),
      ...ids,
    });
  });
  return { ...server, url: `${server.origin}/v1beta` };
}
