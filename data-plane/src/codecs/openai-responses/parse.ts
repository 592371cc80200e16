import { NO_SAMPLING, type ChatMessage, type ChatRequest, type JsonObject, type ReasoningEffort, type ReasoningSummary, type ResponseFormat, type ToolChoice, type ToolDefinition } from '@tollgate/shared';
import { jsonObjectBody } from '../json-body.ts';
import { array, boolean, integer, invalid, number, object, oneOf, optional, shown, string, unsupported, type Fields } from '../anthropic-messages/fields.ts';
import { inputMessages, TOOL_NAME } from './input.ts';
import { LIMITS } from './limits.ts';

const NO_STATE = 'the gateway stores no conversations and lets no provider store them for it';

/**
 * Fields that need state kept between requests, by the gateway or the provider, which the gateway
 * refuses to keep: refused, not dropped, since dropping them would answer a different question.
 * `store` itself is read and ignored: the provider is always told not to store (the response says
 * `"store": false`), and a later request can only reach a stored response through the fields
 * refused here.
 */
function refuseState(body: Fields): void {
  const present = (name: string): boolean => body[name] !== undefined && body[name] !== null;
  if (present('previous_response_id')) throw unsupported(`"previous_response_id" is not supported: ${NO_STATE}. Send the whole conversation as "input".`, 'previous_response_id');
  if (present('conversation')) throw unsupported(`"conversation" is not supported: ${NO_STATE}. Send the whole conversation as "input".`, 'conversation');
  if (present('prompt')) throw unsupported('"prompt" (a prompt template stored with the provider) is not supported; send the instructions and input themselves.', 'prompt');
  if (body.background === true) throw unsupported(`"background" is not supported: a background response is stored to be fetched later, and ${NO_STATE}.`, 'background');
  if (present('context_management')) throw unsupported('"context_management" is not supported: the provider would compact the conversation with calls the gateway does not meter.', 'context_management');
}

function refusePriced(body: Fields): void {
  const tier = body.service_tier;
  if (tier !== undefined && tier !== null && tier !== 'auto' && tier !== 'default') {
    throw unsupported(`"service_tier": ${shown(tier)} changes the price and is not supported; omit it or use "auto".`, 'service_tier');
  }
}

function tools(value: unknown): ToolDefinition[] {
  return array(value, 'tools', LIMITS.tools).map((raw, i) => {
    const at = `tools[${i}]`;
    const tool = object(raw, at);
    if (tool.type !== 'function') {
      // Built-in tools (web and file search, code interpreter, computer use, MCP, ...) run and bill at the provider.
      throw unsupported(`Tools of type ${shown(tool.type)} are not supported: built-in tools run and bill at the provider; only function tools are.`, `${at}.type`);
    }
    const name = string(tool.name, `${at}.name`, LIMITS.toolNameChars);
    if (!TOOL_NAME.test(name)) throw invalid(`"${at}.name" may hold letters, digits, _ and - only.`, `${at}.name`);
    return {
      name,
      description: optional(tool.description, (v) => string(v, `${at}.description`)),
      parameters: optional(tool.parameters, (v) => object(v, `${at}.parameters`) as JsonObject),
      strict: optional(tool.strict, (v) => boolean(v, `${at}.strict`)),
    };
  });
}

function toolChoice(value: unknown): ToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (typeof value === 'string') throw invalid('"tool_choice" must be auto, none, required or a function.', 'tool_choice');
  const choice = object(value, 'tool_choice');
  if (choice.type !== 'function') throw unsupported(`"tool_choice" of type ${shown(choice.type)} is not supported: auto, none, required or a function.`, 'tool_choice.type');
  return { type: 'function', name: string(choice.name, 'tool_choice.name', LIMITS.toolNameChars) };
}

/** `text.format`: plain text, JSON mode, or a JSON schema (Structured Outputs). `text.verbosity` is a hint, dropped. */
function responseFormat(text: Fields): ResponseFormat | null {
  return optional(text.format, (v) => {
    const format = object(v, 'text.format');
    switch (format.type) {
      case 'text':
      case 'json_object':
        return { type: format.type };
      case 'json_schema':
        return {
          type: 'json_schema',
          name: string(format.name, 'text.format.name', LIMITS.schemaNameChars),
          schema: object(format.schema, 'text.format.schema') as JsonObject,
          strict: optional(format.strict, (s) => boolean(s, 'text.format.strict')),
          description: optional(format.description, (d) => string(d, 'text.format.description')),
        };
      default:
        throw invalid('"text.format.type" must be text, json_object or json_schema.', 'text.format.type');
    }
  });
}

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high'] as const;
const SUMMARIES = ['auto', 'concise', 'detailed'] as const;

/**
 * `reasoning.effort` and `reasoning.summary` (or its older name `generate_summary`). `none` asks
 * for no particular effort: the model's default. Efforts above `high` have no portable meaning yet
 * and are refused.
 */
function reasoning(value: unknown): { effort: ReasoningEffort | null; summary: ReasoningSummary | null } {
  const r = object(value, 'reasoning');
  const effort = optional(r.effort, (v) => {
    if (v === 'xhigh' || v === 'max') throw unsupported(`"reasoning.effort": ${shown(v)} is not supported; use none, minimal, low, medium or high.`, 'reasoning.effort');
    return oneOf(v, 'reasoning.effort', EFFORTS);
  });
  const summary = optional(r.summary, (v) => oneOf(v, 'reasoning.summary', SUMMARIES)) ?? optional(r.generate_summary, (v) => oneOf(v, 'reasoning.generate_summary', SUMMARIES));
  return { effort: effort === 'none' ? null : effort, summary };
}

/**
 * An OpenAI Responses body (`POST /v1/responses`) into the canonical request: `instructions` as a
 * system message ahead of the `input`; function tools; the tool choice; `text.format`;
 * `reasoning`; the output cap, temperature and top_p. Fields the gateway has no use for
 * (`include`, `metadata`, `truncation`, `prompt_cache_key`, `top_logprobs`, `max_tool_calls`, ...)
 * are dropped; fields that need stored state or change the price are refused.
 */
export function parseResponsesRequest(raw: Buffer): ChatRequest {
  const body: Fields = jsonObjectBody(raw);
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  const model = string(body.model, 'model', LIMITS.modelChars);
  refuseState(body);
  refusePriced(body);
  if (body.input === undefined || body.input === null) throw invalid('Missing required parameter: "input".', 'input');
  const instructions = optional(body.instructions, (v) => string(v, 'instructions'));
  const messages: ChatMessage[] = [...(instructions ? [{ role: 'system' as const, content: [{ type: 'text' as const, text: instructions }] }] : []), ...inputMessages(body.input)];
  if (!messages.some((m) => m.role !== 'system' && m.role !== 'developer')) throw invalid('"input" must hold at least one message or function call output.', 'input');
  const text = optional(body.text, (v) => object(v, 'text'));
  const thinking = optional(body.reasoning, reasoning);
  return {
    model,
    messages,
    tools: optional(body.tools, tools) ?? [],
    toolChoice: optional(body.tool_choice, toolChoice),
    parallelToolCalls: optional(body.parallel_tool_calls, (v) => boolean(v, 'parallel_tool_calls')),
    responseFormat: text === null ? null : responseFormat(text),
    sampling: {
      ...NO_SAMPLING,
      temperature: optional(body.temperature, (v) => number(v, 'temperature', 0, 2)),
      topP: optional(body.top_p, (v) => number(v, 'top_p', 0, 1)),
    },
    maxOutputTokens: optional(body.max_output_tokens, (v) => integer(v, 'max_output_tokens', 1, LIMITS.maxOutputTokens)),
    // The Responses API has no `n`.
    n: 1,
    stream: optional(body.stream, (v) => boolean(v, 'stream')) ?? false,
    // A Responses stream always ends with the usage (response.completed).
    includeUsage: true,
    reasoningEffort: thinking?.effort ?? null,
    ...(thinking?.summary ? { reasoningSummary: thinking.summary } : {}),
    user: optional(body.user, (v) => string(v, 'user', LIMITS.userChars)) ?? optional(body.safety_identifier, (v) => string(v, 'safety_identifier', LIMITS.userChars)),
  };
}
