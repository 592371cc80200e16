import type { GatewayError, ImageRequest, ImageResponse } from '@tollgate/shared';
import type { IngressCodec } from '../codec.ts';
import { parseOpenAIImages } from './parse.ts';

/**
 * The canonical answer as OpenAI's `ImagesResponse`: the images returned, each as its URL or
 * base64 and revised prompt, and what the provider says it made. No token usage: images are billed
 * per image (`x-tollgate-cost`).
 */
export function renderOpenAIImages(response: ImageResponse): string {
  return JSON.stringify({
    created: response.created,
    data: response.data.map((image) => ({
      ...(image.url !== null ? { url: image.url } : {}),
      ...(image.b64Json !== null ? { b64_json: image.b64Json } : {}),
      ...(image.revisedPrompt !== null ? { revised_prompt: image.revisedPrompt } : {}),
    })),
    ...(response.background !== null ? { background: response.background } : {}),
    ...(response.outputFormat !== null ? { output_format: response.outputFormat } : {}),
    ...(response.quality !== null ? { quality: response.quality } : {}),
    ...(response.size !== null ? { size: response.size } : {}),
  });
}

/**
 * OpenAI image generation (`/v1/images/generations`). Answers are always rendered from the
 * canonical one, never passed through: what reaches the client is exactly the images billed.
 */
export const openAIImagesCodec: IngressCodec<ImageRequest, ImageResponse> = {
  format: 'openai-images',
  parse: parseOpenAIImages,
  renderResponse: (response) => renderOpenAIImages(response),
  renderError: (error: GatewayError) => error.toBody(),
  streamHeaders: [],
};
