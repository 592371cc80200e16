import { TIERS } from '@tollgate/shared';
import { builder } from '../builder.ts';

export const TierEnum = builder.enumType('Tier', {
  description: 'cheap: pooled accounts; resale: the operator\'s provider keys, never pooled; byok: the customer\'s own credentials.',
  values: TIERS,
});

export const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', { values: ['active', 'revoked'] as const });

export const LedgerKindEnum = builder.enumType('LedgerKind', { values: ['adjustment', 'usage'] as const });
