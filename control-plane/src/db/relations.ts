import { defineRelations } from 'drizzle-orm';
import * as schema from './schema/index.ts';

/** Relational queries (RQB v2) and the Pothos drizzle plugin both read these. */
export const relations = defineRelations(schema, (r) => ({
  users: {
    managementTokens: r.many.managementTokens(),
  },
  managementTokens: {
    user: r.one.users({ from: r.managementTokens.userId, to: r.users.id, optional: false }),
  },
  orgs: {
    apiKeys: r.many.apiKeys(),
    ledgerEntries: r.many.ledgerEntries(),
    usageRecords: r.many.usageRecords(),
  },
  apiKeys: {
    org: r.one.orgs({ from: r.apiKeys.orgId, to: r.orgs.id, optional: false }),
  },
  ledgerEntries: {
    org: r.one.orgs({ from: r.ledgerEntries.orgId, to: r.orgs.id, optional: false }),
  },
  usageRecords: {
    org: r.one.orgs({ from: r.usageRecords.orgId, to: r.orgs.id, optional: false }),
  },
  models: {
    targets: r.many.modelTargets(),
    prices: r.many.modelPrices(),
  },
  modelTargets: {
    model: r.one.models({ from: r.modelTargets.modelId, to: r.models.id, optional: false }),
    channel: r.one.providerChannels({ from: r.modelTargets.channelId, to: r.providerChannels.id, optional: false }),
  },
  modelPrices: {
    model: r.one.models({ from: r.modelPrices.modelId, to: r.models.id, optional: false }),
  },
  providerChannels: {
    targets: r.many.modelTargets(),
  },
}));

export type Relations = typeof relations;
