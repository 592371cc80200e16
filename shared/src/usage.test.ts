import { describe, expect, it } from 'vitest';
import { usage } from './canonical/usage.ts';
import { decodeOrphan, decodeUsageEvent, encodeOrphan, encodeUsageEvent, UsageEventFormatError, type UsageEvent } from './usage.ts';

const orphan: UsageEvent = {
  v: 2, requestId: 'req_1', clientRequestId: 'client-7', orgId: 'org-1', keyId: 'key-1', model: 'gpt-4o', tier: 'resale', lane: 'premium',
  provider: 'openai', channelId: 'ch-1', byokCredentialId: null, upstreamModel: 'gpt-4o-2024', endpoint: 'chat', stream: true,
  usage: usage({ input: 42 }), usageSource: 'estimated', chargeKind: 'usage', cost: '4200', providerCost: '3100', hold: '90000', overHold: false,
  attempts: [], startedAt: 1_764_500_000_123, latencyMs: 0, status: 'orphaned', httpStatus: 0, errorCode: 'orphaned',
};

describe('orphan intents', () => {
  it('round-trip an orphan event exactly, in a third of the bytes', () => {
    const compact = encodeOrphan(orphan);
    expect(decodeOrphan('req_1', compact)).toEqual(orphan);
    expect(compact.length * 2).toBeLessThan(encodeUsageEvent(orphan).length);
  });

  it('read whole events written by older data planes', () => {
    expect(decodeOrphan('req_1', encodeUsageEvent(orphan))).toEqual(orphan);
  });

  it('refuse a malformed intent with a typed error', () => {
    for (const text of ['[2]', '[1,"x"]', 'not json', '{"v":1}', JSON.stringify([1, null, 'org', 'key', 'm', 'platinum', null, null, null, null, null, 'chat', false, 1, 0, 0, 0, 0, 'usage', '1', '0', '1', 1])]) {
      expect(() => decodeOrphan('req_1', text)).toThrow(UsageEventFormatError);
    }
  });

  it('decodes every field of a full event strictly', () => {
    expect(decodeUsageEvent(encodeUsageEvent(orphan))).toEqual(orphan);
    expect(() => decodeUsageEvent(encodeUsageEvent({ ...orphan, cost: '9223372036854775808' }))).toThrow('bad cost');
    expect(() => decodeUsageEvent(encodeUsageEvent({ ...orphan, usage: { ...orphan.usage, output: 1e13 } }))).toThrow('bad usage');
  });
});
