import { jsonObjectBody } from '../json-body.ts';
import { longBodyMember } from '../source-json.ts';
import { NO_SAMPLING, type ChatRequest, type JsonObject, type ReasoningEffort, type ResponseFormat, type ThinkingConfig, type ToolChoice, type ToolDefinition } from '@tollgate/shared';
import { cacheControl, conversation, markLastBlock, systemMessage } from './content.ts';
import { array, boolean, integer, invalid, number, object, oneOf, optional, shown, string, unsupported, type Fields } from './fields.ts';
import { LIMITS } from './limits.ts';

const TOOL_NAME = /^[A-Za-z0-9_-]+$/;
const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;

/**
 * Fields that would change what a request costs in ways the gateway does not meter, refused
 * instead of dropped: dropping them would quietly give the client something else than it asked for.
 */
function refusePriced(body: Fields): void {
  if (body.speed !== undefined && body.speed !== null && body.speed !== 'standard') {
    throw unsupported(`"speed": ${shown(body.speed)} is priced at a multiple of the standard rates and is not supported; omit it.`, 'speed');
  }
  if (body.inference_geo !== undefined && body.inference_geo !== null && body.inference_geo !== 'global') {
    throw unsupported(`"inference_geo": ${shown(body.inference_geo)} is priced above the global rates and is not supported; omit it.`, 'inference_geo');
  }
  const tier = body.service_tier;
  if (tier !== undefined && tier !== null && tier !== 'auto' && tier !== 'standard_only') {
    throw unsupported(`"service_tier": ${shown(tier)} is not supported; omit it or use "auto".`, 'service_tier');
  }
  if (body.container !== undefined && body.container !== null) throw unsupported('"container" (code execution) is billed per container hour and is not supported.', 'container');
  if (Array.isArray(body.mcp_servers) ? body.mcp_servers.length > 0 : body.mcp_servers !== undefined && body.mcp_servers !== null) {
    throw unsupported('"mcp_servers" is not supported: MCP tools run with the provider and are not metered by the gateway.', 'mcp_servers');
  }
  if (body.context_management !== undefined && body.context_management !== null) {
    throw unsupported('"context_management" is not supported: the provider would edit or summarise the conversation with calls the gateway does not meter.', 'context_management');
  }
}

function tools(value: unknown): ToolDefinition[] {
  return array(value, 'tools', LIMITS.tools).map((raw, i) => {
    const at = `tools[${i}]`;
    const tool = object(raw, at);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      // Server tools (web search, code execution, ...) are billed per use; Anthropic-defined client
      // tools (bash, text editor, computer use) have schemas only Anthropic knows.
      throw unsupported(`Tools of type ${shown(tool.type)} are not supported; define the tool with a name and an input_schema.`, `${at}.type`);
    }
    const name = string(tool.name, `${at}.name`, LIMITS.toolNameChars);
    if (!TOOL_NAME.test(name)) throw invalid(`"${at}.name" may hold letters, digits, _ and - only.`, `${at}.name`);
    const marker = cacheControl(tool.cache_control, `${at}.cache_control`);
    return {
      name,
      description: optional(tool.description, (v) => string(v, `${at}.description`)),
      parameters: object(tool.input_schema, `${at}.input_schema`) as JsonObject,
      strict: optional(tool.strict, (v) => boolean(v, `${at}.strict`)),
      ...(marker !== null ? { cacheControl: marker } : {}),
    };
  });
}

/** `tool_choice` into the choice and whether calls may run in parallel. */
function toolChoice(value: unknown): { choice: ToolChoice; parallel: boolean | null } {
  const choice = object(value, 'tool_choice');
  const serial = optional(choice.disable_parallel_tool_use, (v) => boolean(v, 'tool_choice.disable_parallel_tool_use'));
  const parallel = serial === null ? null : !serial;
  switch (choice.type) {
    case 'auto':
      return { choice: { type: 'auto' }, parallel };
    case 'any':
      return { choice: { type: 'required' }, parallel };
    case 'tool':
      return { choice: { type: 'function', name: string(choice.name, 'tool_choice.name', LIMITS.toolNameChars) }, parallel };
    case 'none':
      return { choice: { type: 'none' }, parallel: null };
    default:
      throw invalid('"tool_choice.type" must be auto, any, tool or none.', 'tool_choice.type');
  }
}

/** `thinking` and `output_config.effort`, kept as given; null when the client set neither. */
function thinkingConfig(body: Fields, outputConfig: Fields | null, maxTokens: number): ThinkingConfig | null {
  const effort = optional(outputConfig?.effort, (v) => oneOf(v, 'output_config.effort', EFFORTS));
  const thinking = optional(body.thinking, (v) => object(v, 'thinking'));
  if (thinking === null) return effort === null ? null : { type: null, budgetTokens: null, effort, display: null };
  const type = oneOf(thinking.type, 'thinking.type', ['enabled', 'adaptive', 'disabled'] as const);
  const display = optional(thinking.display, (v) => oneOf(v, 'thinking.display', ['summarized', 'omitted'] as const));
  let budgetTokens: number | null = null;
  if (type === 'enabled') {
    // Thinking counts against max_tokens, so the budget must fit below it (Anthropic's own rule).
    if (maxTokens <= LIMITS.minThinkingBudget) throw invalid(`"max_tokens" must be above ${LIMITS.minThinkingBudget} with thinking enabled.`, 'max_tokens');
    budgetTokens = integer(thinking.budget_tokens, 'thinking.budget_tokens', LIMITS.minThinkingBudget, maxTokens - 1);
  }
  return { type, budgetTokens, effort, display };
}

/**
 * The portable effort other providers understand: Anthropic's effort where given (its default is
 * high), else the size of a fixed budget.
 */
function portableEffort(thinking: ThinkingConfig | null): ReasoningEffort | null {
  if (thinking === null || thinking.type === 'disabled') return null;
  if (thinking.effort !== null) return thinking.effort === 'low' || thinking.effort === 'medium' ? thinking.effort : 'high';
  if (thinking.type === 'enabled' && thinking.budgetTokens !== null) return thinking.budgetTokens <= 4_096 ? 'low' : thinking.budgetTokens <= 16_384 ? 'medium' : 'high';
  return thinking.type === 'adaptive' ? 'high' : null;
}

/** `output_config.format` (or the older `output_format`): JSON outputs, which are constrained decoding. */
function responseFormat(value: unknown, param: string): ResponseFormat {
  const format = object(value, param);
  if (format.type !== 'json_schema') throw invalid(`"${param}.type" must be "json_schema".`, `${param}.type`);
  return { type: 'json_schema', name: 'response', schema: object(format.schema, `${param}.schema`) as JsonObject, strict: true, description: null };
}

/**
 * An Anthropic Messages body into the canonical request. Only fields the gateway understands are
 * read and unknown ones dropped, `top_k` among them (a sampling hint no other provider takes;
 * dropping it keeps the request routable anywhere). Fields that would change the price are refused.
 */
export function parseAnthropicMessages(raw: Buffer): ChatRequest {
  const body = jsonObjectBody(raw);
  const request = messagesRequest(body, 'messages');
  request.sourceMessages = longBodyMember(raw, body, 'messages');
  return request;
}

/**
 * A `count_tokens` body: the Messages body without the output cap, which it does not need (one
 * given is still checked). Nothing is generated, so the request never streams.
 */
export function parseAnthropicCountTokens(raw: Buffer): ChatRequest {
  return messagesRequest(jsonObjectBody(raw), 'count_tokens');
}

function messagesRequest(body: Fields, endpoint: 'messages' | 'count_tokens'): ChatRequest {
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  const model = string(body.model, 'model', LIMITS.modelChars);
  const counting = endpoint === 'count_tokens';
  if ((body.max_tokens === undefined || body.max_tokens === null) && !counting) throw invalid('Missing required parameter: "max_tokens".', 'max_tokens');
  const maxTokens = optional(body.max_tokens, (v) => integer(v, 'max_tokens', 1, LIMITS.maxOutputTokens));
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('Missing required parameter: "messages" must be a non-empty array.', 'messages');
  refusePriced(body);

  let messages = [...optional(body.system, systemMessage) ?? [], ...conversation(body.messages)];
  const marker = cacheControl(body.cache_control, 'cache_control');
  if (marker !== null) messages = markLastBlock(messages, marker);
  const choice = optional(body.tool_choice, toolChoice);
  const outputConfig = optional(body.output_config, (v) => object(v, 'output_config'));
  const format = optional(outputConfig?.format, (v) => responseFormat(v, 'output_config.format')) ?? optional(body.output_format, (v) => responseFormat(v, 'output_format'));
  const thinking = thinkingConfig(body, outputConfig, maxTokens ?? LIMITS.maxOutputTokens);
  const metadata = optional(body.metadata, (v) => object(v, 'metadata'));
  return {
    model,
    messages,
    tools: optional(body.tools, tools) ?? [],
    toolChoice: choice?.choice ?? null,
    parallelToolCalls: choice?.parallel ?? null,
    responseFormat: format,
    sampling: {
      ...NO_SAMPLING,
      temperature: optional(body.temperature, (v) => number(v, 'temperature', 0, 1)),
      topP: optional(body.top_p, (v) => number(v, 'top_p', 0, 1)),
      stop: optional(body.stop_sequences, (v) => array(v, 'stop_sequences', LIMITS.stopSequences).map((s, i) => string(s, `stop_sequences[${i}]`, LIMITS.stopSequenceChars))) ?? [],
    },
    maxOutputTokens: maxTokens,
    // The Messages API has no `n`.
    n: 1,
    stream: counting ? false : (optional(body.stream, (v) => boolean(v, 'stream')) ?? false),
    // Anthropic streams always carry usage (message_start and message_delta).
    includeUsage: true,
    reasoningEffort: portableEffort(thinking),
    ...(thinking !== null ? { thinking } : {}),
    user: optional(metadata?.user_id, (v) => string(v, 'metadata.user_id', LIMITS.userChars)),
  };
}
