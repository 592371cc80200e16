import type { ImagePrice } from '@tollgate/shared';
import type { PriceFields } from '../../services/prices.ts';
import { builder } from '../builder.ts';

const ImagePriceRef = builder.objectRef<ImagePrice>('ImagePrice').implement({
  description: 'Credits per image of one size and quality. A request leaving size or quality to the provider is held at the dearest price that fits and billed for what the provider says it made.',
  fields: (t) => ({
    size: t.exposeString('size', { description: 'WIDTHxHEIGHT, e.g. 1024x1024, or auto.' }),
    quality: t.exposeString('quality', { description: 'standard, hd, low, medium, high, xhigh, max or auto.' }),
    price: t.field({ type: 'Credits', resolve: (p) => p.price }),
  }),
});

const ImagePriceInput = builder.inputType('ImagePriceInput', {
  fields: (t) => ({
    size: t.string({ required: true, description: 'WIDTHxHEIGHT, e.g. 1024x1024, or auto.' }),
    quality: t.string({ required: true, description: 'standard, hd, low, medium, high, xhigh, max or auto.' }),
    price: t.field({ type: 'Credits', required: true, description: 'Credits per image.' }),
  }),
});

/** Prices per usage bucket, shared by sell prices, target costs and BYOK list prices. */
export const TokenPriceRef = builder.objectRef<PriceFields>('TokenPrice').implement({
  description:
    'Credits per million tokens for each usage bucket, and per image by size and quality for image models. Cached input and cache writes without a rate of their own cost the input rate; reasoning without one costs the output rate.',
  fields: (t) => ({
    input: t.field({ type: 'Credits', resolve: (p) => p.input }),
    output: t.field({ type: 'Credits', resolve: (p) => p.output }),
    cachedInput: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.cachedInput }),
    cacheWrite: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.cacheWrite }),
    reasoning: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.reasoning }),
    imagePrices: t.field({
      type: [ImagePriceRef],
      description: 'Per image, by size and quality, for image models; empty: no image is sold at this price.',
      resolve: (p) => p.imagePrices ?? [],
    }),
  }),
});

export const TokenPriceInput = builder.inputType('TokenPriceInput', {
  description: 'Credits per million tokens (and per image for image models); leave cachedInput and cacheWrite out to charge the input rate, reasoning to charge the output rate.',
  fields: (t) => ({
    input: t.field({ type: 'Credits', required: true }),
    output: t.field({ type: 'Credits', required: true }),
    cachedInput: t.field({ type: 'Credits' }),
    cacheWrite: t.field({ type: 'Credits' }),
    reasoning: t.field({ type: 'Credits' }),
    imagePrices: t.field({ type: [ImagePriceInput], description: 'Per image, by size and quality (image models); a size and quality not listed is refused.' }),
  }),
});
