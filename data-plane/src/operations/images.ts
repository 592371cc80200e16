import { GatewayError, imagePriceOf, type ImageRequest, type ImageResponse, type Price } from '@tollgate/shared';
import { openAIImagesCodec } from '../codecs/openai-images/index.ts';
import { imagesExchange } from '../dispatch/exchange.ts';
import { estimateBytesAsTokens } from '../metering/estimate.ts';
import type { ItemRule } from '../metering/pricing.ts';
import { countTokens } from '../metering/tokenizer.ts';
import type { RoutePlan } from '../routing/resolve.ts';
import type { Operation } from './operation.ts';

/** A size or quality the client left to the provider. */
const open = (value: string | null): boolean => value === null || value === 'auto';

/** What a request is priced as: as asked, or where it left a choice open, as the answer says it was made. */
function pricedAs(request: ImageRequest, response: ImageResponse | null): { size: string | null; quality: string | null } {
  return {
    size: open(request.size) ? (response?.size ?? request.size) : request.size,
    quality: open(request.quality) ? (response?.quality ?? request.quality) : request.quality,
  };
}

/** The image prices a lane's targets list, for the refusal: at most a few, so it stays short. */
function listed(plan: RoutePlan): string {
  const seen = new Set<string>();
  for (const c of plan.candidates) for (const i of c.chargePrice.images ?? []) seen.add(`${i.size} ${i.quality}`);
  if (seen.size === 0) return 'It sells no images.';
  const shown = [...seen].slice(0, 12);
  return `Sold: ${shown.join(', ')}${seen.size > shown.length ? ', ...' : ''}.`;
}

const perImage: ItemRule<ImageRequest, ImageResponse> = {
  maxItems: (request) => request.n,
  items: (response) => response.data.length,
  unitPrice(price: Price, request, response) {
    const { size, quality } = pricedAs(request, response);
    return imagePriceOf(price, size, quality);
  },
  unpriced(request, plan) {
    // Name the field to change: the quality when the size is sold at some quality, else the size.
    const sizeSold = plan.candidates.some((c) => imagePriceOf(c.chargePrice, request.size, null) !== null);
    const asked = `size ${request.size ?? '(default)'} and quality ${request.quality ?? '(default)'}`;
    return new GatewayError('unsupported_parameter', `The model "${plan.model.route.name}" is not sold at ${asked} on the ${plan.tier} tier. ${listed(plan)}`, sizeSold ? 'quality' : 'size');
  },
};

/**
 * `/v1/images/generations`: priced per image by size and quality. The hold is `n` images at the
 * dearest price that fits the request; the bill is the images returned, never more than `n`.
 */
export const imagesOperation: Operation<ImageRequest, ImageResponse> = {
  name: 'images',
  codec: openAIImagesCodec,
  shape: (r) => ({ model: r.model, stream: false, includeUsage: false, maxOutputTokens: 0, n: 1, producesOutput: false }),
  // The prompt, for tokens-per-minute limits; the price does not depend on it.
  estimateInput: (r) => estimateBytesAsTokens(Buffer.byteLength(r.prompt, 'utf8')) + 1,
  countInput: (r) => countTokens(r.prompt),
  promptTexts: (r) => [r.prompt],
  exchange: imagesExchange,
  // Nothing to meter in tokens: the pricing rule counts the images.
  meterWhole: () => {},
  pricing: perImage,
};
