import type { GeneratedImage, ImageRequest, ImageResponse } from '../../canonical/images.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, secondsField, stringField } from '../json.ts';

/** Images one answer may hold: OpenAI's own bound on `n`. More are not believed, nor billed. */
export const MAX_IMAGES = 10;

/**
 * The Images API body (`POST /images/generations`): only the fields the gateway read and priced,
 * each only when the client set it, so the provider's own defaults apply to the rest.
 */
export function openAIImagesBody(request: ImageRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model, prompt: request.prompt };
  if (request.n !== 1) body.n = request.n;
  const optional: [string, unknown][] = [
    ['size', request.size],
    ['quality', request.quality],
    ['response_format', request.responseFormat],
    ['style', request.style],
    ['background', request.background],
    ['output_format', request.outputFormat],
    ['output_compression', request.outputCompression],
    ['moderation', request.moderation],
    ['user', request.user],
    ['safety_identifier', request.safetyIdentifier],
  ];
  for (const [name, value] of optional) if (value !== null) body[name] = value;
  return body;
}

function image(value: unknown): GeneratedImage | null {
  const url = stringField(value, 'url');
  const b64Json = stringField(value, 'b64_json');
  // An entry with neither is no image: nothing to show, nothing to bill.
  if (url === null && b64Json === null) return null;
  return { url, b64Json, revisedPrompt: stringField(value, 'revised_prompt') };
}

/** OpenAI's `ImagesResponse`: the images in `data` are what is billed, at most MAX_IMAGES. */
export function parseOpenAIImages(body: Uint8Array): ImageResponse {
  const payload = readAnswerObject(body);
  const data: GeneratedImage[] = [];
  for (const item of arrayField(payload, 'data')) {
    const found = image(item);
    if (found !== null && data.length < MAX_IMAGES) data.push(found);
  }
  return {
    created: secondsField(payload, 'created'),
    data,
    size: stringField(payload, 'size'),
    quality: stringField(payload, 'quality'),
    background: stringField(payload, 'background'),
    outputFormat: stringField(payload, 'output_format'),
  };
}
