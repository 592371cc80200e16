import { jsonObjectBody } from '../json-body.ts';
import {
  GatewayError,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type JsonObject,
  type ReasoningEffort,
  type ResponseFormat,
  type Sampling,
  type TextPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from '@tollgate/shared';
import { array, boolean, integer, invalid, number, object, optional, shown, string, type Fields } from '../fields.ts';
import { LIMITS } from './limits.ts';
import { longBodyMember } from '../source-json.ts';

/** Fields that would change what a request costs and that the gateway does not meter. */
const PRICED_FIELDS: Record<string, string> = {
  prediction: 'predicted outputs are billed for rejected tokens the gateway cannot meter',
  audio: 'audio output is not supported',
  web_search_options: 'web search is billed per call and not supported',
  functions: 'use "tools" instead of the deprecated "functions"',
  function_call: 'use "tool_choice" instead of the deprecated "function_call"',
};

function refusePriced(body: Fields): void {
  for (const [name, why] of Object.entries(PRICED_FIELDS)) {
    if (body[name] !== undefined && body[name] !== null) throw new GatewayError('unsupported_parameter', `"${name}" is not supported: ${why}.`, name);
  }
  const tier = body.service_tier;
  if (tier !== undefined && tier !== null && tier !== 'auto' && tier !== 'default') {
    throw new GatewayError('unsupported_parameter', `"service_tier": ${shown(tier)} changes the price and is not supported; omit it or use "auto".`, 'service_tier');
  }
  const modalities = body.modalities;
  if (Array.isArray(modalities) && modalities.some((m) => m !== 'text')) {
    throw new GatewayError('unsupported_parameter', 'Only text output is supported ("modalities": ["text"]).', 'modalities');
  }
}

function textParts(value: unknown, param: string, allowRefusal = false): TextPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  const parts: TextPart[] = [];
  array(value, param, LIMITS.partsPerMessage).forEach((raw, i) => {
    const part = object(raw, `${param}[${i}]`);
    if (part.type === 'text') parts.push({ type: 'text', text: string(part.text, `${param}[${i}].text`) });
    else if (!(allowRefusal && part.type === 'refusal')) throw invalid(`"${param}[${i}]" must be a text part here.`, param);
  });
  return parts;
}

function contentParts(value: unknown, param: string): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return array(value, param, LIMITS.partsPerMessage).map((raw, i): ContentPart => {
    const at = `${param}[${i}]`;
    const part = object(raw, at);
    if (part.type === 'text') return { type: 'text', text: string(part.text, `${at}.text`) };
    if (part.type === 'image_url') {
      const image = typeof part.image_url === 'string' ? { url: part.image_url } : object(part.image_url, `${at}.image_url`);
      const url = string(image.url, `${at}.image_url.url`);
      if (!url.startsWith('https://') && !url.startsWith('http://') && !url.startsWith('data:image/')) {
        throw invalid(`"${at}.image_url.url" must be an http(s) URL or a data:image/ URL.`, `${at}.image_url.url`);
      }
      const detail = image.detail;
      if (detail !== undefined && detail !== null && detail !== 'auto' && detail !== 'low' && detail !== 'high') {
        throw invalid(`"${at}.image_url.detail" must be auto, low or high.`, `${at}.image_url.detail`);
      }
      return { type: 'image', url, detail: (detail as 'auto' | 'low' | 'high' | undefined) ?? null };
    }
    throw new GatewayError('unsupported_parameter', `Content parts of type ${shown(part.type)} are not supported.`, at);
  });
}

function toolCalls(value: unknown, param: string): ToolCall[] {
  return array(value, param, LIMITS.toolCallsPerMessage).map((raw, i) => {
    const at = `${param}[${i}]`;
    const call = object(raw, at);
    const fn = object(call.function, `${at}.function`);
    return { id: string(call.id, `${at}.id`, 256), name: string(fn.name, `${at}.function.name`, LIMITS.toolNameChars), arguments: string(fn.arguments, `${at}.function.arguments`) };
  });
}

function message(raw: unknown, i: number): ChatMessage {
  const at = `messages[${i}]`;
  const m = object(raw, at);
  const name = optional(m.name, (v) => string(v, `${at}.name`, 256));
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: m.role, content: textParts(m.content, `${at}.content`), ...(name !== null ? { name } : {}) };
    case 'user':
      return { role: 'user', content: contentParts(m.content, `${at}.content`), name };
    case 'assistant': {
      const calls = optional(m.tool_calls, (v) => toolCalls(v, `${at}.tool_calls`)) ?? [];
      const content = optional(m.content, (v) => textParts(v, `${at}.content`, true)) ?? [];
      if (content.length === 0 && calls.length === 0 && m.refusal == null) throw invalid(`"${at}" needs content or tool_calls.`, `${at}.content`);
      return { role: 'assistant', content, toolCalls: calls, refusal: optional(m.refusal, (v) => string(v, `${at}.refusal`)), name };
    }
    case 'tool':
      return { role: 'tool', toolCallId: string(m.tool_call_id, `${at}.tool_call_id`, 256), content: textParts(m.content, `${at}.content`) };
    default:
      throw invalid(`"${at}.role" must be system, developer, user, assistant or tool.`, `${at}.role`);
  }
}

function tools(value: unknown): ToolDefinition[] {
  return array(value, 'tools', LIMITS.tools).map((raw, i) => {
    const at = `tools[${i}]`;
    const tool = object(raw, at);
    if (tool.type !== 'function') throw new GatewayError('unsupported_parameter', `"${at}.type" must be "function".`, `${at}.type`);
    const fn = object(tool.function, `${at}.function`);
    const name = string(fn.name, `${at}.function.name`, LIMITS.toolNameChars);
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw invalid(`"${at}.function.name" may hold letters, digits, _ and - only.`, `${at}.function.name`);
    return {
      name,
      description: optional(fn.description, (v) => string(v, `${at}.function.description`)),
      parameters: optional(fn.parameters, (v) => object(v, `${at}.function.parameters`) as JsonObject),
      strict: optional(fn.strict, (v) => boolean(v, `${at}.function.strict`)),
    };
  });
}

function toolChoice(value: unknown): ToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  const choice = object(value, 'tool_choice');
  if (choice.type !== 'function') throw invalid('"tool_choice" must be auto, none, required or a function.', 'tool_choice');
  return { type: 'function', name: string(object(choice.function, 'tool_choice.function').name, 'tool_choice.function.name', LIMITS.toolNameChars) };
}

function responseFormat(value: unknown): ResponseFormat {
  const format = object(value, 'response_format');
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type };
  if (format.type !== 'json_schema') throw invalid('"response_format.type" must be text, json_object or json_schema.', 'response_format.type');
  const schema = object(format.json_schema, 'response_format.json_schema');
  return {
    type: 'json_schema',
    name: string(schema.name, 'response_format.json_schema.name', 64),
    schema: optional(schema.schema, (v) => object(v, 'response_format.json_schema.schema') as JsonObject),
    strict: optional(schema.strict, (v) => boolean(v, 'response_format.json_schema.strict')),
    description: optional(schema.description, (v) => string(v, 'response_format.json_schema.description')),
  };
}

function stop(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return array(value, 'stop', LIMITS.stopSequences).map((s, i) => string(s, `stop[${i}]`, 1_000));
}

function logitBias(value: unknown): Record<string, number> {
  const bias = object(value, 'logit_bias');
  const entries = Object.entries(bias);
  if (entries.length > LIMITS.logitBiasEntries) throw invalid(`"logit_bias" may hold at most ${LIMITS.logitBiasEntries} entries.`, 'logit_bias');
  const out: Record<string, number> = {};
  for (const [token, weight] of entries) {
    if (!/^\d{1,10}$/.test(token)) throw invalid('"logit_bias" keys must be token ids.', 'logit_bias');
    out[token] = number(weight, `logit_bias.${token}`, -100, 100);
  }
  return out;
}

const REASONING_EFFORTS = new Set<ReasoningEffort>(['minimal', 'low', 'medium', 'high']);

/**
 * An OpenAI Chat Completions body into the canonical request. Only fields the gateway understands
 * are read; the rest are dropped, except fields that would change the price, which are refused.
 */
export function parseOpenAIChat(raw: Buffer): ChatRequest {
  const body: Fields = jsonObjectBody(raw);
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  const model = string(body.model, 'model', LIMITS.modelChars);
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('Missing required parameter: "messages" must be a non-empty array.', 'messages');
  refusePriced(body);
  const messages = array(body.messages, 'messages', LIMITS.messages).map(message);

  let maxOutputTokens: number | null = null;
  for (const name of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = optional(body[name], (v) => integer(v, name, 1, LIMITS.maxOutputTokens));
    if (value !== null) maxOutputTokens = maxOutputTokens === null ? value : Math.min(maxOutputTokens, value);
  }
  const sampling: Sampling = {
    temperature: optional(body.temperature, (v) => number(v, 'temperature', 0, 2)),
    topP: optional(body.top_p, (v) => number(v, 'top_p', 0, 1)),
    frequencyPenalty: optional(body.frequency_penalty, (v) => number(v, 'frequency_penalty', -2, 2)),
    presencePenalty: optional(body.presence_penalty, (v) => number(v, 'presence_penalty', -2, 2)),
    seed: optional(body.seed, (v) => integer(v, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
    stop: optional(body.stop, stop) ?? [],
    logprobs: optional(body.logprobs, (v) => boolean(v, 'logprobs')),
    topLogprobs: optional(body.top_logprobs, (v) => integer(v, 'top_logprobs', 0, LIMITS.topLogprobs)),
    logitBias: optional(body.logit_bias, logitBias),
  };
  const streamOptions = optional(body.stream_options, (v) => object(v, 'stream_options'));
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null && !REASONING_EFFORTS.has(effort as ReasoningEffort)) {
    throw invalid('"reasoning_effort" must be minimal, low, medium or high.', 'reasoning_effort');
  }
  return {
    model,
    messages,
    tools: optional(body.tools, tools) ?? [],
    toolChoice: optional(body.tool_choice, toolChoice),
    parallelToolCalls: optional(body.parallel_tool_calls, (v) => boolean(v, 'parallel_tool_calls')),
    responseFormat: optional(body.response_format, responseFormat),
    sampling,
    maxOutputTokens,
    n: optional(body.n, (v) => integer(v, 'n', 1, LIMITS.n)) ?? 1,
    stream: optional(body.stream, (v) => boolean(v, 'stream')) ?? false,
    includeUsage: streamOptions !== null && streamOptions.include_usage === true,
    reasoningEffort: (effort as ReasoningEffort | null | undefined) ?? null,
    user: optional(body.user, (v) => string(v, 'user', LIMITS.userChars)),
    sourceMessages: longBodyMember(raw, body, 'messages'),
  };
}
