import { LANES, MODEL_CAPABILITIES, TIERS } from '@tollgate/shared';
import { builder } from '../builder.ts';

export const TierEnum = builder.enumType('Tier', {
  description: 'cheap: pooled accounts; resale: the operator\'s provider keys, never pooled; byok: the customer\'s own credentials.',
  values: TIERS,
});

export const OperatorTierEnum = builder.enumType('OperatorTier', {
  description: 'The tiers an operator channel serves and the tiers a model is sold on; byok uses only each org\'s own credentials.',
  values: ['cheap', 'resale'] as const,
});

export const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', {
  description: 'active and disabled can be switched back and forth; revoked is final.',
  values: ['active', 'disabled', 'revoked'] as const,
});

export const LedgerKindEnum = builder.enumType('LedgerKind', {
  description: 'adjustment: a manual credit or debit; usage: a request\'s price; byok_fee: the fee on a request made with the org\'s own credential.',
  values: ['adjustment', 'usage', 'byok_fee'] as const,
});

export const ChargeKindEnum = builder.enumType('ChargeKind', {
  description: 'What a request was charged: usage at the sell price, or for byok the BYOK fee.',
  values: ['usage', 'byok_fee'] as const,
});

export const LaneEnum = builder.enumType('Lane', { description: 'The plan lane an `auto` request took.', values: LANES });

export const CredentialKindEnum = builder.enumType('CredentialKind', {
  description: 'api_key: the key as text; aws: a JSON object {accessKeyId, secretAccessKey, region, sessionToken?}; azure: a JSON object {endpoint, apiKey, apiVersion, deployment?}.',
  values: ['api_key', 'aws', 'azure'] as const,
});

export const PlanWindowEnum = builder.enumType('PlanWindow', {
  description: 'The fair-use window: a calendar day, ISO week or month, in UTC.',
  values: ['day', 'week', 'month'] as const,
});

export const ModelCapabilityEnum = builder.enumType('ModelCapability', {
  description: 'What a model can do: vision (image input), tools (function calling), json_schema (structured output), reasoning (thinking tokens), embeddings, images (image generation). Shown in GET /v1/models; not enforced.',
  values: MODEL_CAPABILITIES,
});
