import { defineRelations } from 'drizzle-orm';
import * as schema from './schema/index.ts';

/** Relational queries (RQB v2) and the Pothos drizzle plugin both read these. */
export const relations = defineRelations(schema, (r) => ({
  users: {
    managementTokens: r.many.managementTokens(),
    memberships: r.many.orgMembers(),
  },
  managementTokens: {
    user: r.one.users({ from: r.managementTokens.userId, to: r.users.id, optional: false }),
    org: r.one.orgs({ from: r.managementTokens.orgId, to: r.orgs.id }),
  },
  orgMembers: {
    user: r.one.users({ from: r.orgMembers.userId, to: r.users.id, optional: false }),
    org: r.one.orgs({ from: r.orgMembers.orgId, to: r.orgs.id, optional: false }),
    apiKeys: r.many.apiKeys(),
  },
  invitations: {
    org: r.one.orgs({ from: r.invitations.orgId, to: r.orgs.id, optional: false }),
  },
  sessions: {
    user: r.one.users({ from: r.sessions.userId, to: r.users.id, optional: false }),
  },
  orgs: {
    apiKeys: r.many.apiKeys(),
    ledgerEntries: r.many.ledgerEntries(),
    usageRecords: r.many.usageRecords(),
    byokCredentials: r.many.byokCredentials(),
    plan: r.one.plans({ from: r.orgs.planId, to: r.plans.id }),
    members: r.many.orgMembers(),
    invitations: r.many.invitations(),
    alerts: r.many.orgAlerts(),
  },
  apiKeys: {
    org: r.one.orgs({ from: r.apiKeys.orgId, to: r.orgs.id, optional: false }),
    member: r.one.orgMembers({ from: r.apiKeys.memberId, to: r.orgMembers.id }),
  },
  orgAlerts: {
    org: r.one.orgs({ from: r.orgAlerts.orgId, to: r.orgs.id, optional: false }),
  },
  byokCredentials: {
    org: r.one.orgs({ from: r.byokCredentials.orgId, to: r.orgs.id, optional: false }),
  },
  ledgerEntries: {
    org: r.one.orgs({ from: r.ledgerEntries.orgId, to: r.orgs.id, optional: false }),
  },
  usageRecords: {
    org: r.one.orgs({ from: r.usageRecords.orgId, to: r.orgs.id, optional: false }),
  },
  plans: {
    orgs: r.many.orgs(),
    premiumModel: r.one.models({ from: r.plans.premiumModelId, to: r.models.id, optional: false }),
    continuationModel: r.one.models({ from: r.plans.continuationModelId, to: r.models.id }),
    fallbackModel: r.one.models({ from: r.plans.fallbackModelId, to: r.models.id }),
  },
  models: {
    targets: r.many.modelTargets(),
    sellPrices: r.many.modelSellPrices(),
    byokTargets: r.many.modelByokTargets(),
    markups: r.many.modelMarkups(),
  },
  modelTargets: {
    model: r.one.models({ from: r.modelTargets.modelId, to: r.models.id, optional: false }),
    channel: r.one.providerChannels({ from: r.modelTargets.channelId, to: r.providerChannels.id, optional: false }),
  },
  modelSellPrices: {
    model: r.one.models({ from: r.modelSellPrices.modelId, to: r.models.id, optional: false }),
  },
  modelByokTargets: {
    model: r.one.models({ from: r.modelByokTargets.modelId, to: r.models.id, optional: false }),
  },
  modelMarkups: {
    model: r.one.models({ from: r.modelMarkups.modelId, to: r.models.id, optional: false }),
    org: r.one.orgs({ from: r.modelMarkups.orgId, to: r.orgs.id }),
  },
  providerChannels: {
    targets: r.many.modelTargets(),
  },
}));

export type Relations = typeof relations;
