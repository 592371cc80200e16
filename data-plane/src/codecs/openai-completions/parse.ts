import { GatewayError, NO_SAMPLING, type CompletionRequest } from '@tollgate/shared';
import { array, boolean, integer, invalid, number, object, optional, string, unsupported } from '../fields.ts';
import { jsonObjectBody } from '../json-body.ts';

const MAX_PROMPTS = 128;
/** OpenAI's legacy default when a completion request sets no cap. */
export const LEGACY_DEFAULT_MAX_TOKENS = 16;

/**
 * A legacy completions body into the canonical completion request. Fields that change the price
 * or need the provider to echo or score tokens (`best_of`, `echo`, `suffix`, `logprobs`) are refused.
 */
export function parseOpenAICompletion(raw: Buffer): CompletionRequest {
  const body = jsonObjectBody(raw);
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  if (body.prompt === undefined || body.prompt === null) throw invalid('Missing required parameter: "prompt".', 'prompt');
  const prompt =
    typeof body.prompt === 'string'
      ? [body.prompt]
      : array(body.prompt, 'prompt', MAX_PROMPTS, 1).map((item, i) => {
          if (typeof item !== 'string') throw unsupported(`"prompt[${i}]": token arrays are not supported; send text.`, 'prompt');
          return item;
        });
  for (const [name, refused] of [
    ['best_of', body.best_of !== undefined && body.best_of !== null && body.best_of !== 1],
    ['echo', body.echo === true],
    ['suffix', body.suffix !== undefined && body.suffix !== null],
    ['logprobs', body.logprobs !== undefined && body.logprobs !== null],
  ] as const) {
    if (refused) throw new GatewayError('unsupported_parameter', `"${name}" is not supported on /v1/completions.`, name);
  }
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : array(body.stop, 'stop', 4).map((s, i) => string(s, `stop[${i}]`, 1_000));
  const streamOptions = optional(body.stream_options, (v) => object(v, 'stream_options'));
  return {
    model: string(body.model, 'model', 256),
    prompt,
    sampling: {
      ...NO_SAMPLING,
      temperature: optional(body.temperature, (v) => number(v, 'temperature', 0, 2)),
      topP: optional(body.top_p, (v) => number(v, 'top_p', 0, 1)),
      frequencyPenalty: optional(body.frequency_penalty, (v) => number(v, 'frequency_penalty', -2, 2)),
      presencePenalty: optional(body.presence_penalty, (v) => number(v, 'presence_penalty', -2, 2)),
      seed: optional(body.seed, (v) => integer(v, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
      stop,
    },
    maxOutputTokens: optional(body.max_tokens, (v) => integer(v, 'max_tokens', 1, 10_000_000)) ?? LEGACY_DEFAULT_MAX_TOKENS,
    n: optional(body.n, (v) => integer(v, 'n', 1, 16)) ?? 1,
    stream: optional(body.stream, (v) => boolean(v, 'stream')) ?? false,
    includeUsage: streamOptions !== null && streamOptions.include_usage === true,
    user: optional(body.user, (v) => string(v, 'user', 256)),
  };
}
