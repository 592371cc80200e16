import type { ChatMessage, ChatRequest, ContentPart, ToolChoice } from '../../canonical/chat.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import type { Credential } from '../credentials.ts';
import { jsonBody, type JsonBody } from '../source-body.ts';

export interface ChatBodyOptions {
  capField: 'max_tokens' | 'max_completion_tokens';
  /**
   * Ask for usage on streams (`stream_options`); default true. Off only for APIs that refuse the
   * field (Azure API versions before 2024-09-01): metering then estimates.
   */
  streamUsage?: boolean;
}

/**
 * The Chat Completions body from the canonical request: only fields the gateway knows, the target's
 * upstream model, and usage always requested on streams so metering never has to guess.
 */
export function openAIChatBody(request: ChatRequest, upstreamModel: string, options: ChatBodyOptions): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = { model: upstreamModel, messages: request.messages.map(message) };
  if (request.stream) {
    body.stream = true;
    if (options.streamUsage !== false) body.stream_options = { include_usage: true };
  }
  if (request.maxOutputTokens !== null) body[options.capField] = request.maxOutputTokens;
  if (request.n !== 1) body.n = request.n;
  if (s.temperature !== null) body.temperature = s.temperature;
  if (s.topP !== null) body.top_p = s.topP;
  if (s.frequencyPenalty !== null) body.frequency_penalty = s.frequencyPenalty;
  if (s.presencePenalty !== null) body.presence_penalty = s.presencePenalty;
  if (s.seed !== null) body.seed = s.seed;
  if (s.stop.length > 0) body.stop = s.stop;
  if (s.logprobs !== null) body.logprobs = s.logprobs;
  if (s.topLogprobs !== null) body.top_logprobs = s.topLogprobs;
  if (s.logitBias !== null) body.logit_bias = s.logitBias;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== null ? { description: t.description } : {}),
        ...(t.parameters !== null ? { parameters: t.parameters } : {}),
        ...(t.strict !== null ? { strict: t.strict } : {}),
      },
    }));
  }
  if (request.toolChoice !== null) body.tool_choice = toolChoice(request.toolChoice);
  if (request.parallelToolCalls !== null) body.parallel_tool_calls = request.parallelToolCalls;
  const format = request.responseFormat;
  if (format !== null) {
    body.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              ...(format.schema !== null ? { schema: format.schema } : {}),
              ...(format.strict !== null ? { strict: format.strict } : {}),
              ...(format.description !== null ? { description: format.description } : {}),
            },
          }
        : { type: format.type };
  }
  if (request.reasoningEffort !== null) body.reasoning_effort = request.reasoningEffort;
  if (request.user !== null) body.user = request.user;
  return body;
}

function toolChoice(choice: ToolChoice): unknown {
  return choice.type === 'function' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

function textOf(parts: { text: string }[]): string {
  return parts.length === 1 ? parts[0]!.text : parts.map((p) => p.text).join('');
}

function contentParts(parts: ContentPart[]): string | unknown[] {
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  return parts.map((p) =>
    p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image_url', image_url: { url: p.url, ...(p.detail !== null ? { detail: p.detail } : {}) } },
  );
}

function message(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: m.role, content: textOf(m.content), ...(m.name ? { name: m.name } : {}) };
    case 'user':
      return { role: 'user', content: contentParts(m.content), ...(m.name !== null ? { name: m.name } : {}) };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content.length > 0 ? textOf(m.content) : null,
        ...(m.toolCalls.length > 0
          ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
          : {}),
        ...(m.refusal !== null ? { refusal: m.refusal } : {}),
        ...(m.name !== null ? { name: m.name } : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: textOf(m.content) };
  }
}

/**
 * Our own headers: a channel's extra headers may not replace them, in any letter case. Both
 * credential headers are ours whichever one a call uses (Azure's is `api-key`).
 */
const OWN_HEADERS = new Set(['authorization', 'api-key', 'content-type', 'accept', 'accept-encoding']);

/** The one header that carries a call's credential. */
export interface HeaderAuth {
  name: 'authorization' | 'api-key';
  value: string;
}

/** A bearer key, as OpenAI and every compatible provider take it. */
export function bearerAuth(credential: Credential): HeaderAuth {
  if (credential.kind !== 'api_key') throw new TypeError(`an OpenAI-compatible provider takes an API key, not a ${credential.kind} credential`);
  return { name: 'authorization', value: `Bearer ${credential.apiKey}` };
}

/**
 * Headers every OpenAI-compatible call carries; the credential is a bearer key unless `auth` says
 * otherwise. `body` is serialised, unless it already is JSON (text or bytes from `encodeWithSource`).
 */
export function openAIRequest(target: UpstreamTarget, path: string, body: JsonBody, stream: boolean, auth: HeaderAuth = bearerAuth(target.credential)): PreparedRequest {
  return {
    method: 'POST',
    origin: target.origin,
    path: `${target.basePath}${path}`,
    headers: {
      ...Object.fromEntries(Object.entries(target.extraHeaders).filter(([name]) => !OWN_HEADERS.has(name.toLowerCase()))),
      [auth.name]: auth.value,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      // Compressed bodies are not asked for: the relay counts and bounds plain bytes.
      'accept-encoding': 'identity',
    },
    body: jsonBody(body),
  };
}
