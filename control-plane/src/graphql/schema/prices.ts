import type { PriceFields } from '../../services/prices.ts';
import { builder } from '../builder.ts';

/** Prices per usage bucket, shared by sell prices, target costs and BYOK list prices. */
export const TokenPriceRef = builder.objectRef<PriceFields>('TokenPrice').implement({
  description:
    'Credits per million tokens for each usage bucket. Cached input and cache writes without a rate of their own cost the input rate; reasoning without one costs the output rate.',
  fields: (t) => ({
    input: t.field({ type: 'Credits', resolve: (p) => p.input }),
    output: t.field({ type: 'Credits', resolve: (p) => p.output }),
    cachedInput: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.cachedInput }),
    cacheWrite: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.cacheWrite }),
    reasoning: t.field({ type: 'Credits', nullable: true, resolve: (p) => p.reasoning }),
  }),
});

export const TokenPriceInput = builder.inputType('TokenPriceInput', {
  description: 'Credits per million tokens; leave cachedInput and cacheWrite out to charge the input rate, reasoning to charge the output rate.',
  fields: (t) => ({
    input: t.field({ type: 'Credits', required: true }),
    output: t.field({ type: 'Credits', required: true }),
    cachedInput: t.field({ type: 'Credits' }),
    cacheWrite: t.field({ type: 'Credits' }),
    reasoning: t.field({ type: 'Credits' }),
  }),
});
