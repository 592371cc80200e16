import type { ChatRequest, ReasoningEffort } from '../../canonical/chat.ts';

/**
 * The `generationConfig` of a request: temperature, topP, the penalties, maxOutputTokens (which
 * covers thinking as well as the answer, like OpenAI's max_completion_tokens), stopSequences,
 * candidateCount for `n`, seed, the response format, and thinking. Not sent, for want of a Gemini
 * equivalent the gateway would report back: logprobs (the canonical answer has no place for them),
 * logit bias, and the end user's id.
 */
export function generationConfig(request: ChatRequest, upstreamModel: string): Record<string, unknown> {
  const s = request.sampling;
  const config: Record<string, unknown> = {};
  if (s.temperature !== null) config.temperature = s.temperature;
  if (s.topP !== null) config.topP = s.topP;
  if (s.presencePenalty !== null) config.presencePenalty = s.presencePenalty;
  if (s.frequencyPenalty !== null) config.frequencyPenalty = s.frequencyPenalty;
  if (request.maxOutputTokens !== null) config.maxOutputTokens = request.maxOutputTokens;
  if (s.stop.length > 0) config.stopSequences = s.stop;
  if (request.n !== 1) config.candidateCount = request.n;
  // Gemini's seed is a 32-bit integer: a larger one is wrapped (ToInt32), so equal seeds stay equal.
  if (s.seed !== null) config.seed = s.seed | 0;
  const format = request.responseFormat;
  if (format !== null && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    // The JSON Schema as the client wrote it (see tools.ts on why not the OpenAPI `responseSchema`).
    if (format.type === 'json_schema' && format.schema !== null) config.responseJsonSchema = format.schema;
  }
  if (request.reasoningEffort !== null) {
    const thinking = thinkingConfig(request.reasoningEffort, upstreamModel);
    if (thinking !== null) config.thinkingConfig = thinking;
  }
  return config;
}

/** Gemini 2.5 thinks within a token budget (Flash-Lite's floor is 512, Pro's ceiling 32,768). */
const BUDGETS: Readonly<Record<ReasoningEffort, number>> = { minimal: 512, low: 1024, medium: 8192, high: 24576 };
/** Gemini 3 takes a level; only `low` and `high` are accepted by every Gemini 3 model. */
const LEVELS: Readonly<Record<ReasoningEffort, string>> = { minimal: 'low', low: 'low', medium: 'high', high: 'high' };

/**
 * `reasoningEffort` as a `thinkingConfig`, by model generation: 2.5 models a `thinkingBudget`,
 * Gemini 3 and later a `thinkingLevel` (mixing them is an error). Thought summaries are asked for
 * (`includeThoughts`), so the reasoning streams as reasoning events. Models that do not think
 * (1.x, 2.0) and names the gateway cannot place (aliases such as `gemini-flash-latest`) get no
 * thinking config: a wrong one is a 400, no thinking config is the model's default.
 */
export function thinkingConfig(effort: ReasoningEffort, upstreamModel: string): Record<string, unknown> | null {
  const generation = /^gemini-(\d+)(?:\.(\d+))?/.exec(upstreamModel.replace(/^models\//, ''));
  if (generation === null) return null;
  const major = Number(generation[1]);
  const minor = Number(generation[2] ?? 0);
  if (major === 2 && minor === 5) return { thinkingBudget: BUDGETS[effort], includeThoughts: true };
  if (major >= 3) return { thinkingLevel: LEVELS[effort], includeThoughts: true };
  return null;
}
