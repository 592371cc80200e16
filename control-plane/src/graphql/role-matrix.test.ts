import { randomUUID } from 'node:crypto';
import { generateSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitations, ledgerEntries, usageRecords } from '../db/schema/index.ts';
import { createApiKey, createOrg, generousRateLimits, memberWithToken, unique } from '../testing/fixtures.ts';
import { createHarness, type Harness } from '../testing/harness.ts';
import { schema } from './schema.ts';

/**
 * Every query and mutation, run as every kind of caller, with the exact outcome asserted: allowed
 * (no authorization error; the result may still be a typed NotFound or Validation error), refused
 * (ForbiddenError in a mutation's union, extensions.code FORBIDDEN for a query), or, anonymously,
 * HTTP 401 before parsing. Members act through management tokens scoped to org A and their role;
 * `outsider` owns org B. A new query or mutation fails the coverage check until it is listed here.
 */
type Who = 'operator' | 'owner' | 'admin' | 'developer' | 'billing' | 'viewer' | 'outsider' | 'anonymous';
const EVERYONE: Who[] = ['operator', 'owner', 'admin', 'developer', 'billing', 'viewer', 'outsider', 'anonymous'];

let h: Harness;
let orgA: string;
let orgB: string;
const tokens = {} as Record<Who, string | null>;
let requestId: string;

beforeAll(async () => {
  h = await createHarness({ database: 'pglite', rateLimits: generousRateLimits() });
  orgA = await createOrg(h);
  orgB = await createOrg(h);
  tokens.operator = h.token;
  tokens.anonymous = null;
  for (const role of ['owner', 'admin', 'developer', 'billing', 'viewer'] as const) tokens[role] = (await memberWithToken(h, orgA, role)).token;
  tokens.outsider = (await memberWithToken(h, orgB, 'owner')).token;
  // Org A has books, so deleting it is refused (InUseError) rather than done, for every allowed caller.
  await h.database.db.insert(ledgerEntries).values({ orgId: orgA, amount: 1n, kind: 'adjustment', reason: 'r', idempotencyKey: unique('m') });
  requestId = unique('req');
  await h.database.db.insert(usageRecords).values({
    requestId, orgId: orgA, apiKeyId: randomUUID(), model: 'm', tier: 'resale', stream: false, usageSource: 'reported', cost: 1n, status: 'ok', httpStatus: 200, latencyMs: 1, startedAt: new Date(),
  });
});
afterAll(async () => {
  await h?.cleanup();
});

const ID = () => randomUUID();
/** Created by the operator, who is no member: an org key. */
const freshKey = async () => (await createApiKey(h, orgA)).id;
const freshMember = async () => (await memberWithToken(h, orgA, 'viewer')).memberId;
const freshInvitation = async () =>
  (await h.database.db.insert(invitations).values({ orgId: orgA, email: `${unique('i')}@example.com`, role: 'viewer', tokenHash: generateSecret('api_key').hash, expiresAt: new Date(Date.now() + 60_000) }).returning())[0]!.id;

const OPERATOR: Who[] = ['operator'];
const AUTHENTICATED: Who[] = EVERYONE.filter((w) => w !== 'anonymous');
const MEMBERS_OF_A: Who[] = ['operator', 'owner', 'admin', 'developer', 'billing', 'viewer'];
const MANAGERS: Who[] = ['operator', 'owner', 'admin'];
const KEY_WRITERS: Who[] = ['operator', 'owner', 'admin', 'developer'];
const BILLING: Who[] = ['operator', 'owner', 'admin', 'developer', 'billing'];

interface Case {
  /** Query.<field> or Mutation.<field>, or Type.field for field-level checks. */
  name: string;
  allow: Who[];
  query: string;
  vars?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** For a query: the path whose resolution is refused. */
  path?: string;
}

/** A mutation case; `label` tells apart cases of one mutation whose input needs other permissions. */
function m(field: string, inputType: string, allow: Who[], input: () => Promise<Record<string, unknown>> | Record<string, unknown>, label?: string): Case {
  return {
    name: `Mutation.${field}${label ? ` (${label})` : ''}`,
    allow,
    query: `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } } }`,
    vars: async () => ({ input: await input() }),
  };
}

const price = { input: '1', output: '1' };

const CASES: Case[] = [
  { name: 'Query.viewer', allow: AUTHENTICATED, query: '{ viewer { id } }' },
  { name: 'Query.orgs', allow: AUTHENTICATED, query: '{ orgs { edges { node { id } } } }' },
  { name: 'Query.org', allow: MEMBERS_OF_A, query: 'query($id: ID!) { org(id: $id) { id } }', vars: () => ({ id: orgA }) },
  { name: 'Query.providers', allow: AUTHENTICATED, query: '{ providers { id } }' },
  { name: 'Query.channels', allow: OPERATOR, query: '{ channels { edges { node { id } } } }' },
  { name: 'Query.channel', allow: OPERATOR, query: 'query($id: ID!) { channel(id: $id) { id } }', vars: () => ({ id: ID() }) },
  { name: 'Query.models', allow: OPERATOR, query: '{ models { edges { node { id } } } }' },
  { name: 'Query.model', allow: OPERATOR, query: 'query($id: ID!) { model(id: $id) { id } }', vars: () => ({ id: ID() }) },
  { name: 'Model.contextWindow', allow: OPERATOR, query: '{ models(first: 1) { edges { node { contextWindow } } } }' },
  { name: 'Model.capabilities', allow: OPERATOR, query: '{ models(first: 1) { edges { node { capabilities } } } }' },
  { name: 'Model.aliases', allow: OPERATOR, query: '{ models(first: 1) { edges { node { aliases } } } }' },
  { name: 'Model.markups', allow: OPERATOR, query: '{ models(first: 1) { edges { node { markups { tier orgId org { id } markupBps effectiveFrom } } } } }' },
  { name: 'Model.markupHistory', allow: OPERATOR, query: '{ models(first: 1) { edges { node { markupHistory { id createdAt } } } } }' },
  { name: 'Query.plans', allow: OPERATOR, query: '{ plans { edges { node { id } } } }' },
  { name: 'Query.settings', allow: OPERATOR, query: '{ settings { byokFeeBps } }' },
  { name: 'Query.exportConfig', allow: OPERATOR, query: '{ exportConfig }' },
  { name: 'Query.managementTokens', allow: AUTHENTICATED, query: '{ managementTokens { edges { node { id } } } }' },
  { name: 'Query.auditLog', allow: MANAGERS, query: 'query($o: ID) { auditLog(orgId: $o) { edges { node { id } } } }', vars: () => ({ o: orgA }) },
  { name: 'Query.auditLog (all orgs)', allow: OPERATOR, query: '{ auditLog { edges { node { id } } } }' },
  { name: 'Query.usageRecords', allow: BILLING, query: 'query($o: ID!) { usageRecords(orgId: $o) { edges { node { requestId } } } }', vars: () => ({ o: orgA }) },
  { name: 'Query.usageRecord', allow: BILLING, query: 'query($r: String!) { usageRecord(requestId: $r) { requestId } }', vars: () => ({ r: requestId }) },
  // Field-level scopes on an org the caller may read.
  { name: 'Org.balance', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { balance } }', vars: () => ({ id: orgA }), path: 'org.balance' },
  { name: 'Org.ledgerEntries', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { ledgerEntries { edges { node { id } } } } }', vars: () => ({ id: orgA }), path: 'org.ledgerEntries' },
  { name: 'Org.usageRecords', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { usageRecords { edges { node { requestId } } } } }', vars: () => ({ id: orgA }), path: 'org.usageRecords' },
  { name: 'Org.apiKeys', allow: MEMBERS_OF_A, query: 'query($id: ID!) { org(id: $id) { apiKeys { edges { node { id } } } } }', vars: () => ({ id: orgA }) },
  { name: 'Org.members', allow: MEMBERS_OF_A, query: 'query($id: ID!) { org(id: $id) { members { edges { node { role } } } } }', vars: () => ({ id: orgA }) },
  { name: 'Org.byokCredentials', allow: MEMBERS_OF_A, query: 'query($id: ID!) { org(id: $id) { byokCredentials { edges { node { id } } } } }', vars: () => ({ id: orgA }) },
  { name: 'Org.invitations', allow: MANAGERS, query: 'query($id: ID!) { org(id: $id) { invitations { edges { node { id } } } } }', vars: () => ({ id: orgA }), path: 'org.invitations' },
  { name: 'Org.overdraft', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { overdraft } }', vars: () => ({ id: orgA }), path: 'org.overdraft' },
  { name: 'Org.lowBalanceThreshold', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { lowBalanceThreshold } }', vars: () => ({ id: orgA }), path: 'org.lowBalanceThreshold' },
  { name: 'Org.alerts', allow: BILLING, query: 'query($id: ID!) { org(id: $id) { alerts { edges { node { id } } } } }', vars: () => ({ id: orgA }), path: 'org.alerts' },
  { name: 'Org.limits', allow: MEMBERS_OF_A, query: 'query($id: ID!) { org(id: $id) { limits { requestsPerMinute } } }', vars: () => ({ id: orgA }) },
  { name: 'Query.reconcile', allow: OPERATOR, query: '{ reconcile { orgsChecked } }' },
  { name: 'Query.usageDeadLetters', allow: OPERATOR, query: '{ usageDeadLetters(resolved: false) { edges { node { id } } } }' },
  {
    name: 'ApiKey.spend',
    allow: BILLING,
    query: 'query($id: ID!) { org(id: $id) { apiKeys(first: 1) { edges { node { spend { month } } } } } }',
    vars: async () => (await freshKey(), { id: orgA }),
    path: 'org.apiKeys.edges.0.node.spend',
  },
  {
    name: 'ApiKey.usage',
    allow: BILLING,
    query: 'query($id: ID!) { org(id: $id) { apiKeys(first: 1) { edges { node { usage { requests } } } } } }',
    vars: async () => (await freshKey(), { id: orgA }),
    path: 'org.apiKeys.edges.0.node.usage',
  },

  m('signIn', 'SignInInput', EVERYONE, () => ({ email: 'nobody@example.com', password: 'wrong password' })),
  m('requestPasswordReset', 'RequestPasswordResetInput', EVERYONE, () => ({ email: 'nobody@example.com' })),
  m('resetPassword', 'ResetPasswordInput', EVERYONE, () => ({ token: 'not-a-link', password: 'a long enough password' })),
  m('verifyEmail', 'VerifyEmailInput', EVERYONE, () => ({ token: 'not-a-link' })),
  m('acceptInvitation', 'AcceptInvitationInput', EVERYONE, () => ({ token: 'not-a-link' })),
  { name: 'Mutation.signOut', allow: AUTHENTICATED, query: 'mutation { signOut { ok } }' },
  { name: 'Mutation.sendEmailVerification', allow: AUTHENTICATED, query: 'mutation { sendEmailVerification { ok } }' },
  m('changePassword', 'ChangePasswordInput', AUTHENTICATED, () => ({ currentPassword: '', newPassword: 'short' })),
  m('createManagementToken', 'CreateManagementTokenInput', MEMBERS_OF_A, () => ({ name: 't', orgId: orgA, role: 'viewer' })),
  m('revokeManagementToken', 'RevokeManagementTokenInput', AUTHENTICATED, () => ({ id: ID() })),

  m('createOrg', 'CreateOrgInput', OPERATOR, () => ({ name: unique('org') })),
  m('updateOrg', 'UpdateOrgInput', MANAGERS, () => ({ id: orgA, lowBalanceThreshold: '1' })),
  // What the org is sold is the operator's to change.
  m('updateOrg', 'UpdateOrgInput', OPERATOR, () => ({ id: orgA, limits: { requestsPerMinute: 100_000 } }), 'limits'),
  m('updateOrg', 'UpdateOrgInput', OPERATOR, () => ({ id: orgA, overdraft: '0' }), 'overdraft'),
  m('deleteOrg', 'OrgIdInput', ['operator', 'owner'], () => ({ id: orgA })),
  m('setOrgAllowedTiers', 'SetOrgAllowedTiersInput', OPERATOR, () => ({ orgId: orgA })),
  m('setOrgPlan', 'SetOrgPlanInput', OPERATOR, () => ({ orgId: orgA })),
  m('creditOrg', 'CreditOrgInput', OPERATOR, () => ({ orgId: orgA, amount: '1', reason: 'r', idempotencyKey: unique('c') })),
  { name: 'Mutation.repairStore', allow: OPERATOR, query: 'mutation { repairStore { __typename ... on Error { message } } }' },
  m('resolveUsageDeadLetter', 'ResolveUsageDeadLetterInput', OPERATOR, () => ({ id: ID(), note: 'booked by hand' })),

  m('inviteMember', 'InviteMemberInput', MANAGERS, () => ({ orgId: orgA, email: `${unique('x')}@example.com`, role: 'viewer' })),
  m('addMember', 'AddMemberInput', OPERATOR, () => ({ orgId: orgA, email: `${unique('x')}@example.com`, role: 'viewer' })),
  m('revokeInvitation', 'InvitationIdInput', MANAGERS, async () => ({ id: await freshInvitation() })),
  m('changeMemberRole', 'ChangeMemberRoleInput', MANAGERS, async () => ({ id: await freshMember(), role: 'developer' })),
  m('removeMember', 'MemberIdInput', MANAGERS, async () => ({ id: await freshMember() })),
  m('setMemberAllowance', 'SetMemberAllowanceInput', MANAGERS, async () => ({ id: await freshMember(), monthlyAllowance: '5' })),

  m('createApiKey', 'CreateApiKeyInput', KEY_WRITERS, () => ({ orgId: orgA, name: 'k' })),
  // A service key escapes every member's allowance: only those who manage members make one.
  m('createApiKey', 'CreateApiKeyInput', MANAGERS, () => ({ orgId: orgA, name: 'k', serviceKey: true }), 'service key'),
  m('updateApiKey', 'UpdateApiKeyInput', KEY_WRITERS, async () => ({ id: await freshKey(), name: 'renamed', limits: { requestsPerMinute: 5 } })),
  // A new secret for a key that is not the caller's own (here an org key) needs members:manage.
  m('rotateApiKey', 'RotateApiKeyInput', MANAGERS, async () => ({ id: await freshKey() })),
  m('disableApiKey', 'ApiKeyIdInput', KEY_WRITERS, async () => ({ id: await freshKey() })),
  m('enableApiKey', 'ApiKeyIdInput', KEY_WRITERS, async () => ({ id: await freshKey() })),
  m('revokeApiKey', 'RevokeApiKeyInput', KEY_WRITERS, async () => ({ id: await freshKey() })),
  m('deleteApiKey', 'ApiKeyIdInput', KEY_WRITERS, async () => ({ id: await freshKey() })),
  m('setApiKeyAllowedTiers', 'SetApiKeyAllowedTiersInput', KEY_WRITERS, async () => ({ id: await freshKey() })),

  m('setByokCredential', 'SetByokCredentialInput', KEY_WRITERS, () => ({ orgId: orgA, provider: 'openai', credential: 'sk-matrix-0123456789' })),
  m('deleteByokCredential', 'ByokCredentialKeyInput', KEY_WRITERS, () => ({ orgId: orgA, provider: 'groq' })),
  m('testByokCredential', 'TestByokCredentialInput', KEY_WRITERS, () => ({ orgId: orgA, provider: 'groq' })),

  m('createChannel', 'CreateChannelInput', OPERATOR, () => ({ name: unique('c'), provider: 'custom', baseUrl: 'http://127.0.0.1:9/v1', tier: 'resale', credential: 'sk-matrix-channel' })),
  m('updateChannel', 'UpdateChannelInput', OPERATOR, () => ({ id: ID() })),
  m('enableChannel', 'ChannelIdInput', OPERATOR, () => ({ id: ID() })),
  m('disableChannel', 'ChannelIdInput', OPERATOR, () => ({ id: ID() })),
  m('deleteChannel', 'ChannelIdInput', OPERATOR, () => ({ id: ID() })),
  m('testChannel', 'TestChannelInput', OPERATOR, () => ({ id: ID() })),
  m('createModel', 'CreateModelInput', OPERATOR, () => ({ name: unique('model') })),
  m('updateModel', 'UpdateModelInput', OPERATOR, () => ({ id: ID() })),
  m('updateModel', 'UpdateModelInput', OPERATOR, () => ({ id: ID(), capabilities: ['tools'], aliases: [unique('alias')] }), 'capabilities and aliases'),
  m('deleteModel', 'ModelIdInput', OPERATOR, () => ({ id: ID() })),
  m('setModelPrice', 'SetModelPriceInput', OPERATOR, () => ({ modelId: ID(), tier: 'resale', price })),
  m('setModelMarkup', 'SetModelMarkupInput', OPERATOR, () => ({ modelId: ID(), tier: 'resale', markupBps: 12_000 })),
  m('setModelMarkup', 'SetModelMarkupInput', OPERATOR, () => ({ modelId: ID(), tier: 'resale', orgId: orgA, markupBps: 11_000 }), 'for an org'),
  m('addModelTarget', 'AddModelTargetInput', OPERATOR, () => ({ modelId: ID(), channelId: ID(), upstreamModel: 'u', cost: price })),
  m('updateModelTarget', 'UpdateModelTargetInput', OPERATOR, () => ({ id: ID() })),
  m('removeModelTarget', 'ModelTargetIdInput', OPERATOR, () => ({ id: ID() })),
  m('setModelByokTarget', 'SetModelByokTargetInput', OPERATOR, () => ({ modelId: ID(), provider: 'openai', upstreamModel: 'u', listPrice: price })),
  m('removeModelByokTarget', 'RemoveModelByokTargetInput', OPERATOR, () => ({ modelId: ID(), provider: 'openai' })),
  m('createPlan', 'CreatePlanInput', OPERATOR, () => ({ name: unique('p'), window: 'day', premiumAllowanceTokens: 1, continuationAllowed: false, fallbackAllowed: false, premiumLane: { model: 'none', tier: 'resale' } })),
  m('updatePlan', 'UpdatePlanInput', OPERATOR, () => ({ id: ID() })),
  m('deletePlan', 'PlanIdInput', OPERATOR, () => ({ id: ID() })),
  m('setByokFee', 'SetByokFeeInput', OPERATOR, () => ({ byokFeeBps: 500 })),
  m('applyConfig', 'ApplyConfigInput', OPERATOR, () => ({ document: 'version: 1\n', dryRun: true })),
];

describe('the role matrix', () => {
  it('lists every query and mutation of the schema', () => {
    const covered = new Set(CASES.map((c) => c.name.split(' ')[0]!).filter((n) => n.startsWith('Query.') || n.startsWith('Mutation.')));
    const fields = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((f) => `Query.${f}`),
      ...Object.keys(schema.getMutationType()!.getFields()).map((f) => `Mutation.${f}`),
    ];
    expect(fields.filter((f) => !covered.has(f))).toEqual([]);
    expect([...covered].filter((f) => !fields.includes(f))).toEqual([]);
  });

  describe.each(EVERYONE)('as %s', (who) => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const variables = c.vars ? await c.vars() : {};
      const token = tokens[who];
      const response = await h.post({ query: c.query, variables }, token ? { authorization: `Bearer ${token}` } : {});
      const body = (await response.json()) as { data?: Record<string, any> | null; errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[] };
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      const field = c.name.startsWith('Mutation.') ? c.name.slice('Mutation.'.length).split(' ')[0]! : null;
      const typename: string | undefined = field ? body.data?.[field]?.__typename : undefined;
      const refused = response.status === 401 ? 'unauthenticated' : typename === 'ForbiddenError' || codes.includes('FORBIDDEN') ? 'forbidden' : 'allowed';
      const expected = c.allow.includes(who) ? 'allowed' : who === 'anonymous' ? 'unauthenticated' : 'forbidden';
      // Allowed: no authorization error at all. Unauthenticated: that one error and no other.
      // A field-level refusal names the field; the outsider is refused the whole org.
      const namesField = expected === 'forbidden' && c.path !== undefined;
      expect({
        outcome: refused,
        codes: expected === 'allowed' ? codes.filter((code) => code === 'FORBIDDEN' || code === 'UNAUTHENTICATED') : expected === 'unauthenticated' ? codes : [],
        paths: namesField ? body.errors?.map((e) => e.path?.join('.')) : null,
      }).toEqual({
        outcome: expected,
        codes: expected === 'unauthenticated' ? ['UNAUTHENTICATED'] : [],
        paths: namesField ? [who === 'outsider' ? 'org' : c.path] : null,
      });
    });
  });

  it('scopes lists to the caller: members see their org, the outsider its own, the operator all', async () => {
    const list = async (token: string): Promise<string[]> =>
      ((await h.gql(`{ orgs(first: 100) { edges { node { id } } } }`, {}, token)).data!.orgs.edges as { node: { id: string } }[]).map((e) => e.node.id);
    for (const role of ['owner', 'viewer', 'billing'] as const) expect(await list(tokens[role]!)).toEqual([orgA]);
    expect(await list(tokens.outsider!)).toEqual([orgB]);
    expect(await list(h.token)).toEqual(expect.arrayContaining([orgA, orgB]));
  });

  it('keeps a key of org A out of reach of org B\'s owner, whatever the id', async () => {
    const key = await freshKey();
    const asOutsider = h.as(tokens.outsider);
    for (const field of ['disableApiKey', 'deleteApiKey']) {
      const r = await asOutsider.gql(`mutation($input: ApiKeyIdInput!) { ${field}(input: $input) { __typename } }`, { input: { id: key } });
      expect(r.data![field].__typename).toBe('ForbiddenError');
    }
    expect((await h.database.db.query.apiKeys.findFirst({ where: { id: key } }))?.status).toBe('active');
  });
});
