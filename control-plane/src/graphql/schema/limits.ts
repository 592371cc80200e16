import type { LimitColumns } from '../../services/limits.ts';
import { builder } from '../builder.ts';

/** A key's limits, or an org's ceilings over all its keys: one type for both, in and out. */
export const LimitsRef = builder.objectRef<LimitColumns>('Limits').implement({
  description:
    'What the data plane enforces at admission; null fields are no limit. Credit limits count the cost of requests over the lifetime or the current calendar day, ISO week or month (UTC).',
  fields: (t) => ({
    models: t.exposeStringList('models', {
      nullable: true,
      description: 'Models it may use: exact public names, "tier/name", "tier/*" or "*"; others get HTTP 403 model_not_allowed.',
    }),
    ipAllowlist: t.exposeStringList('ipAllowlist', {
      nullable: true,
      description: 'Client addresses and CIDR ranges (IPv4 and IPv6) it may be used from; others get HTTP 403 ip_not_allowed.',
    }),
    requestsPerMinute: t.exposeInt('requestsPerMinute', { nullable: true, description: 'Past it: HTTP 429 rate_limited until the next minute.' }),
    tokensPerMinute: t.exposeInt('tokensPerMinute', { nullable: true, description: 'Input and output tokens per minute; past it: HTTP 429 rate_limited.' }),
    concurrency: t.exposeInt('concurrency', { nullable: true, description: 'Requests at once; past it: HTTP 429 concurrency_limit.' }),
    lifetimeCreditLimit: t.expose('creditLifetime', { type: 'Credits', nullable: true, description: 'Past it: HTTP 402 credit_limit_reached.' }),
    dailyCreditLimit: t.expose('creditDay', { type: 'Credits', nullable: true }),
    weeklyCreditLimit: t.expose('creditWeek', { type: 'Credits', nullable: true }),
    monthlyCreditLimit: t.expose('creditMonth', { type: 'Credits', nullable: true }),
  }),
});

export const LimitsInput = builder.inputType('LimitsInput', {
  description: 'Each field left out keeps its value; null removes that limit. Lists need at least one entry (at most 100).',
  fields: (t) => ({
    models: t.stringList({ description: 'Exact public names, "tier/name", "tier/*" (cheap, resale, byok) or "*".' }),
    ipAllowlist: t.stringList({ description: 'IPv4/IPv6 addresses or CIDR ranges written as their network (10.0.0.0/8, not 10.1.2.3/8).' }),
    requestsPerMinute: t.int({ description: 'At least 1.' }),
    tokensPerMinute: t.int({ description: 'At least 1.' }),
    concurrency: t.int({ description: 'At least 1.' }),
    lifetimeCreditLimit: t.field({ type: 'Credits', description: 'From 0 (nothing may be spent).' }),
    dailyCreditLimit: t.field({ type: 'Credits' }),
    weeklyCreditLimit: t.field({ type: 'Credits' }),
    monthlyCreditLimit: t.field({ type: 'Credits' }),
  }),
});

export const MetadataEntryRef = builder.objectRef<{ key: string; value: string }>('MetadataEntry').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const MetadataEntryInput = builder.inputType('MetadataEntryInput', {
  description: 'At most 32 entries; keys of 1 to 64 characters, values up to 512.',
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

/** A stored label map as entries, sorted by key. */
export function metadataEntries(metadata: Record<string, string> | null): { key: string; value: string }[] {
  return Object.entries(metadata ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}
