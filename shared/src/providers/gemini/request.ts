import type { ChatRequest } from '../../canonical/chat.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { geminiContents } from './contents.ts';
import { generationConfig } from './generation.ts';
import { functionDeclarations, toolConfig } from './tools.ts';

/** The `generateContent` request body from the canonical request. */
export function geminiBody(request: ChatRequest, upstreamModel: string): Record<string, unknown> {
  const { contents, systemInstruction } = geminiContents(request.messages);
  const body: Record<string, unknown> = { contents };
  if (systemInstruction !== null) body.systemInstruction = systemInstruction;
  if (request.tools.length > 0) {
    body.tools = functionDeclarations(request.tools);
    // A tool config without tools is an error at Gemini; without tools no choice is left anyway.
    if (request.toolChoice !== null) body.toolConfig = toolConfig(request.toolChoice);
  }
  const config = generationConfig(request, upstreamModel);
  if (Object.keys(config).length > 0) body.generationConfig = config;
  return body;
}

/** Headers the adapter sets; an operator's extra header of the same name (any case) gives way. */
const OWN_HEADERS = new Set(['x-goog-api-key', 'content-type', 'accept', 'accept-encoding', 'authorization']);

/**
 * POST {basePath}/models/{model}:generateContent, or :streamGenerateContent?alt=sse for a stream
 * (SSE framing; without `alt=sse` Gemini streams one JSON array). The key travels only in the
 * `x-goog-api-key` header, never as the `key=` query parameter Google also accepts: URLs end up in
 * logs. The model is one path segment, escaped, so no model name can change the path.
 */
export function geminiRequest(request: ChatRequest, target: UpstreamTarget): PreparedRequest {
  if (target.credential.kind !== 'api_key') throw new TypeError(`Gemini takes an API key, not a ${target.credential.kind} credential`);
  const model = target.upstreamModel.replace(/^models\//, '');
  const method = request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.extraHeaders)) {
    if (!OWN_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  return {
    method: 'POST',
    origin: target.origin,
    path: `${target.basePath}/models/${encodeURIComponent(model)}:${method}`,
    headers: {
      ...headers,
      'x-goog-api-key': target.credential.apiKey,
      'content-type': 'application/json',
      accept: request.stream ? 'text/event-stream' : 'application/json',
      // Compressed bodies are not asked for: the relay counts and bounds plain bytes.
      'accept-encoding': 'identity',
    },
    body: JSON.stringify(geminiBody(request, model)),
  };
}
