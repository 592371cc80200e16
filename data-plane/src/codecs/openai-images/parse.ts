import { IMAGE_QUALITIES, IMAGE_SIZE, type ImageRequest } from '@tollgate/shared';
import { integer, invalid, oneOf, optional, shown, string, unsupported } from '../fields.ts';
import { jsonObjectBody } from '../json-body.ts';

/** OpenAI's own bounds: 1..10 images, a prompt of at most 32,000 characters. */
export const MAX_IMAGES = 10;
const MAX_PROMPT_CHARS = 32_000;

/**
 * Fields that would change what an image costs in ways the price list does not say (streamed
 * partial images, animated or vector output, extra planning), refused instead of dropped.
 */
const UNPRICED: Record<string, string> = {
  stream: 'Streamed image generation is not supported; omit "stream".',
  partial_images: 'Partial images are streamed, which is not supported; omit "partial_images".',
  complexity: '"complexity" buys planning the price list does not cover; omit it.',
  frame_count: 'Animated (GIF) output is not sold through this gateway; omit "frame_count".',
  frame_duration_ms: 'Animated (GIF) output is not sold through this gateway; omit "frame_duration_ms".',
  svg: 'SVG output is billed by tokens the gateway does not meter; omit "svg".',
  image: '"image" belongs to /v1/images/edits, which this gateway does not serve.',
  mask: '"mask" belongs to /v1/images/edits, which this gateway does not serve.',
};

const KNOWN = new Set([
  'model', 'prompt', 'n', 'size', 'quality', 'response_format', 'style', 'user', 'safety_identifier',
  'background', 'output_format', 'output_compression', 'moderation',
]);

/**
 * An OpenAI images body into the canonical request. Every field is known or refused: an image's
 * price depends on what is asked, so nothing the gateway did not read may reach the provider.
 */
export function parseOpenAIImages(raw: Buffer): ImageRequest {
  const body = jsonObjectBody(raw);
  for (const [name, value] of Object.entries(body)) {
    if (KNOWN.has(name)) continue;
    // `stream: false` and `partial_images: 0` ask for nothing more than a plain request does.
    if ((name === 'stream' && (value === false || value === null)) || (name === 'partial_images' && (value === 0 || value === null))) continue;
    throw unsupported(UNPRICED[name] ?? `"${name.slice(0, 64)}" is not a parameter of /v1/images/generations this gateway supports.`, name);
  }
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: "model" must be a non-empty string.', 'model');
  if (typeof body.prompt !== 'string' || body.prompt.length === 0) throw invalid('Missing required parameter: "prompt" must be a non-empty string.', 'prompt');
  const size = optional(body.size, (v) => {
    if (typeof v !== 'string' || !IMAGE_SIZE.test(v)) throw invalid(`"size" must be WIDTHxHEIGHT (e.g. 1024x1024) or auto, not ${shown(v)}.`, 'size');
    return v;
  });
  const outputFormat = optional(body.output_format, (v) => {
    if (v === 'gif' || v === 'svg') throw unsupported(`"output_format": ${shown(v)} is not sold through this gateway; use png, jpeg or webp.`, 'output_format');
    return oneOf(v, 'output_format', ['png', 'jpeg', 'webp'] as const);
  });
  return {
    model: string(body.model, 'model', 256),
    prompt: string(body.prompt, 'prompt', MAX_PROMPT_CHARS),
    n: optional(body.n, (v) => integer(v, 'n', 1, MAX_IMAGES)) ?? 1,
    size,
    quality: optional(body.quality, (v) => oneOf(v, 'quality', IMAGE_QUALITIES)),
    responseFormat: optional(body.response_format, (v) => oneOf(v, 'response_format', ['url', 'b64_json'] as const)),
    style: optional(body.style, (v) => oneOf(v, 'style', ['vivid', 'natural'] as const)),
    background: optional(body.background, (v) => oneOf(v, 'background', ['transparent', 'opaque', 'auto'] as const)),
    outputFormat,
    outputCompression: optional(body.output_compression, (v) => integer(v, 'output_compression', 0, 100)),
    moderation: optional(body.moderation, (v) => oneOf(v, 'moderation', ['low', 'auto'] as const)),
    // OpenAI takes an empty `user` as none.
    user: optional(body.user, (v) => string(v, 'user', 256)) || null,
    safetyIdentifier: optional(body.safety_identifier, (v) => string(v, 'safety_identifier', 256)) || null,
  };
}
