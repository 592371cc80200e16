import type { ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../canonical/chat.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { anthropicConversation, cacheControl, type AnthropicBlock } from './messages.ts';
import { anthropicReasoning } from './thinking.ts';
import { jsonBody, type JsonBody } from '../source-body.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * `max_tokens` when the client set no output cap: Anthropic requires one. 4096 fits every current
 * Claude model's output limit, so it stays within the hold the gateway sized from the catalogue.
 */
export const DEFAULT_MAX_TOKENS = 4096;

function tool(t: ToolDefinition): AnthropicBlock {
  return {
    name: t.name,
    ...(t.description !== null ? { description: t.description } : {}),
    // Anthropic requires a schema; a tool without parameters takes an empty object.
    input_schema: t.parameters ?? { type: 'object', properties: {} },
    // Only `true` is sent: models without strict tool use may refuse the field itself.
    ...(t.strict === true ? { strict: true } : {}),
    ...cacheControl(t.cacheControl),
  };
}

function toolChoice(choice: ToolChoice | null, parallel: boolean | null): AnthropicBlock | null {
  const serial = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === null) return parallel === false ? { type: 'auto', ...serial } : null;
  switch (choice.type) {
    case 'auto':
      return { type: 'auto', ...serial };
    case 'required':
      return { type: 'any', ...serial };
    case 'function':
      return { type: 'tool', name: choice.name, ...serial };
    case 'none':
      return { type: 'none' };
  }
}

/**
 * Anthropic has no `response_format`. A strict JSON schema becomes `output_config.format`
 * (constrained decoding, the guarantee the client asked for); a loose schema or plain JSON mode
 * becomes an instruction appended to the system prompt, which steers but does not guarantee.
 */
function responseFormat(format: ResponseFormat | null): { native?: AnthropicBlock; instruction?: string } {
  if (format === null || format.type === 'text') return {};
  if (format.type === 'json_schema' && format.schema !== null) {
    if (format.strict === true) return { native: { type: 'json_schema', schema: format.schema } };
    return { instruction: `Respond with only a JSON value that conforms to this JSON Schema, with no other text and no code fences:\n${JSON.stringify(format.schema)}` };
  }
  return { instruction: 'Respond with only a JSON object, with no other text and no code fences.' };
}

/**
 * The Messages body from the canonical request. Fields Anthropic has no equivalent for (penalties,
 * seed, logprobs, logit bias, `n`: one choice comes back) are left out; temperature is clamped to
 * Anthropic's 0..1, and top_p goes only without a temperature.
 */
export function anthropicMessagesBody(request: ChatRequest, upstreamModel: string): Record<string, unknown> {
  const { system, turns } = anthropicConversation(request.messages);
  const format = responseFormat(request.responseFormat);
  if (format.instruction !== undefined) system.push({ type: 'text', text: format.instruction });
  const s = request.sampling;
  const maxTokens = request.maxOutputTokens ?? DEFAULT_MAX_TOKENS;
  const body: Record<string, unknown> = { model: upstreamModel, max_tokens: maxTokens };
  if (system.length > 0) body.system = system;
  body.messages = turns;
  if (request.user !== null) body.metadata = { user_id: request.user };
  if (s.stop.length > 0) body.stop_sequences = s.stop;
  if (s.temperature !== null) body.temperature = Math.min(1, Math.max(0, s.temperature));
  // Claude 4.1 and later refuse both at once (Anthropic says to alter one, not both): temperature wins.
  if (s.topP !== null && s.temperature === null) body.top_p = s.topP;
  if (request.tools.length > 0) {
    body.tools = request.tools.map(tool);
    const choice = toolChoice(request.toolChoice, request.parallelToolCalls);
    if (choice !== null) body.tool_choice = choice;
  }
  const think = anthropicReasoning(request, upstreamModel, maxTokens, turns);
  if (think.thinking !== undefined) body.thinking = think.thinking;
  const outputConfig: Record<string, unknown> = {};
  if (think.effort !== undefined) outputConfig.effort = think.effort;
  if (format.native !== undefined) outputConfig.format = format.native;
  if (Object.keys(outputConfig).length > 0) body.output_config = outputConfig;
  if (request.stream) body.stream = true;
  return body;
}

/**
 * POST {base}/messages with Anthropic's key header and pinned API version. `body` is serialised,
 * unless it already is JSON (text or bytes from `encodeWithSource`).
 */
export function anthropicRequest(target: UpstreamTarget, body: JsonBody, stream: boolean): PreparedRequest {
  if (target.credential.kind !== 'api_key') throw new TypeError(`Anthropic takes an API key, not a ${target.credential.kind} credential`);
  return {
    method: 'POST',
    origin: target.origin,
    path: `${target.basePath}/messages`,
    headers: {
      ...target.extraHeaders,
      'x-api-key': target.credential.apiKey,
      'anthropic-version': ANTHROPIC_VERSION,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      // Compressed bodies are not asked for: the relay counts and bounds plain bytes.
      'accept-encoding': 'identity',
    },
    body: jsonBody(body),
  };
}
