import type { ChatRequest, ResponseFormat, ToolChoice } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import { responsesInput } from './input.ts';

/** The Responses API refuses a `max_output_tokens` below 16. */
export const MIN_OUTPUT_TOKENS = 16;

function unsupported(message: string, param: string): GatewayError {
  return new GatewayError('unsupported_parameter', message, param);
}

function toolChoice(choice: ToolChoice): unknown {
  return choice.type === 'function' ? { type: 'function', name: choice.name } : choice.type;
}

function textFormat(format: ResponseFormat): Record<string, unknown> {
  if (format.type !== 'json_schema') return { type: format.type };
  // A schema is required here; a client that named none asked for JSON, which JSON mode gives.
  if (format.schema === null) return { type: 'json_object' };
  return {
    type: 'json_schema',
    name: format.name,
    schema: format.schema,
    ...(format.strict !== null ? { strict: format.strict } : {}),
    ...(format.description !== null ? { description: format.description } : {}),
  };
}

/**
 * Refuses what the Responses API cannot do for this request: more than one choice, and stop
 * sequences (the model would write past them). Sampling hints it has no field for (penalties,
 * seed, logit bias, logprobs) are dropped, as for other providers without them.
 */
function refuseUnsupported(request: ChatRequest): void {
  if (request.n !== 1) throw unsupported('The OpenAI Responses API returns one answer per request: "n" must be 1.', 'n');
  if (request.sampling.stop.length > 0) throw unsupported('The OpenAI Responses API has no stop sequences: "stop" must be empty.', 'stop');
}

/**
 * The Responses body from the canonical request. `store` is always false: the gateway keeps no
 * conversation and lets no provider keep one for it (so no `previous_response_id` either; the whole
 * conversation travels as `input`). A function tool without `strict` is sent `strict: false`:
 * omitted, the Responses API would rewrite its schema into strict mode (every field required),
 * while every other format's default is the model's best effort. Usage always arrives with the
 * last stream event, so nothing needs asking for it.
 */
export function responsesBody(request: ChatRequest, model: string): Record<string, unknown> {
  refuseUnsupported(request);
  const { instructions, input } = responsesInput(request.messages);
  const body: Record<string, unknown> = { model };
  if (instructions !== null) body.instructions = instructions;
  body.input = input;
  body.store = false;
  if (request.stream) body.stream = true;
  // Raised to the API's minimum rather than refused: the hold was sized from the client's cap, and
  // metering cuts and bills at the hold, so the few extra tokens allowed cannot cost more than it.
  if (request.maxOutputTokens !== null) body.max_output_tokens = Math.max(MIN_OUTPUT_TOKENS, request.maxOutputTokens);
  const s = request.sampling;
  if (s.temperature !== null) body.temperature = s.temperature;
  if (s.topP !== null) body.top_p = s.topP;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      name: t.name,
      ...(t.description !== null ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: 'object', properties: {} },
      strict: t.strict ?? false,
    }));
  }
  if (request.toolChoice !== null) body.tool_choice = toolChoice(request.toolChoice);
  if (request.parallelToolCalls !== null) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat !== null) body.text = { format: textFormat(request.responseFormat) };
  const summary = request.reasoningSummary ?? null;
  if (request.reasoningEffort !== null || summary !== null) {
    body.reasoning = { ...(request.reasoningEffort !== null ? { effort: request.reasoningEffort } : {}), ...(summary !== null ? { summary } : {}) };
  }
  if (request.user !== null) body.user = request.user;
  return body;
}

