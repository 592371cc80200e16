import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { InvalidLinkError } from '../../services/accounts.ts';
import { acceptInvitation, addMember, changeMemberRole, LastOwnerError, inviteMember, removeMember, revokeInvitation, setMemberAllowance } from '../../services/members.ts';
import { orgRoleInput } from '../../services/tokens.ts';
import { emailInput } from '../../services/accounts.ts';
import { builder } from '../builder.ts';
import { ErrorInterface } from './errors.ts';
import { inputScope } from '../scopes.ts';
import { RateLimitedError } from './accounts.ts';
import { DeletedRecordRef } from './results.ts';

export const OrgRoleEnum = builder.enumType('OrgRole', {
  description:
    'owner: everything, including owners and deleting the org; admin: everything but those; developer: keys and BYOK credentials; billing: balance, ledger and usage; viewer: reads the org, its members and keys.',
  values: ['owner', 'admin', 'developer', 'billing', 'viewer'] as const,
});

builder.objectType(LastOwnerError, {
  name: 'LastOwnerError',
  description: 'An org must keep an owner; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof LastOwnerError,
});

export const MemberRef = builder.drizzleObject('orgMembers', {
  name: 'OrgMember',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    role: t.expose('role', { type: OrgRoleEnum }),
    user: t.relation('user'),
    monthlyAllowance: t.expose('monthlyAllowance', {
      type: 'Credits',
      nullable: true,
      description: 'What the keys that belong to this member may spend per calendar month (UTC); null for no allowance.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const InvitationRef = builder.drizzleObject('invitations', {
  name: 'Invitation',
  description: 'An invitation sent by email; the link itself is never shown again.',
  fields: (t) => ({
    id: t.exposeID('id'),
    orgId: t.exposeID('orgId'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: OrgRoleEnum }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), email: t.string({ required: true }), role: t.field({ type: OrgRoleEnum, required: true }) }),
});
const AddMemberInput = builder.inputType('AddMemberInput', {
  description: 'Operators only: adds a person directly (created without a password if new; they set one with requestPasswordReset).',
  fields: (t) => ({ orgId: t.id({ required: true }), email: t.string({ required: true }), role: t.field({ type: OrgRoleEnum, required: true }) }),
});
const AcceptInvitationInput = builder.inputType('AcceptInvitationInput', {
  fields: (t) => ({
    token: t.string({ required: true, description: 'From the link in the email.' }),
    password: t.string({ description: 'Needed when the invited email has no account (or no password) yet.' }),
  }),
});
const ChangeMemberRoleInput = builder.inputType('ChangeMemberRoleInput', {
  fields: (t) => ({ id: t.id({ required: true }), role: t.field({ type: OrgRoleEnum, required: true }) }),
});
const MemberIdInput = builder.inputType('MemberIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const SetMemberAllowanceInput = builder.inputType('SetMemberAllowanceInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    monthlyAllowance: t.field({ type: 'Credits', description: 'From 0 (their keys may spend nothing); null (or left out) for no allowance.' }),
  }),
});
const InvitationIdInput = builder.inputType('InvitationIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  inviteMember: t.field({
    type: InvitationRef,
    description: 'Emails a link valid for 7 days. Needs members:manage; only owners invite owners.',
    authScopes: inputScope('org', 'members:manage', 'orgId'),
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { invitation } = await inviteMember(ctx, ctx.access, input);
      await ctx.email.deliver();
      return invitation;
    },
  }),
  addMember: t.field({
    type: MemberRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const org = await ctx.db.query.orgs.findFirst({ columns: { id: true }, where: { id: input.orgId } }).catch(() => undefined);
      if (!org) throw new NotFoundError('no org with this id');
      return addMember(ctx.db, org.id, emailInput(input.email), orgRoleInput(input.role));
    },
  }),
  acceptInvitation: t.field({
    type: MemberRef,
    description: 'Public (the link is the credential). Signed in, the invitation must be for your email.',
    errors: { types: [InvalidLinkError, ValidationError, RateLimitedError] },
    args: { input: t.arg({ type: AcceptInvitationInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const ip = ctx.request.ip ?? 'unknown';
      if (!ctx.rateLimits.anonymousPerIp.hit(ip)) throw new RateLimitedError(Math.ceil(ctx.rateLimits.anonymousPerIp.retryAfterMs(ip) / 1000));
      return acceptInvitation(ctx.db, { token: input.token, password: input.password ?? null, user: ctx.user });
    },
  }),
  revokeInvitation: t.field({
    type: InvitationRef,
    authScopes: inputScope('invitation', 'members:manage'),
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: InvitationIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => revokeInvitation(ctx.db, input.id),
  }),
  changeMemberRole: t.field({
    type: MemberRef,
    description: 'Needs members:manage; only owners grant or take the owner role; the last owner stays.',
    authScopes: inputScope('member', 'members:manage'),
    errors: { types: [ValidationError, NotFoundError, LastOwnerError] },
    args: { input: t.arg({ type: ChangeMemberRoleInput, required: true }) },
    resolve: (_root, { input }, ctx) => changeMemberRole(ctx.db, ctx.access, input.id, input.role),
  }),
  setMemberAllowance: t.field({
    type: MemberRef,
    description:
      'What the keys that belong to the member may spend per calendar month (UTC); past it their requests get HTTP 402 credit_limit_reached. Needs members:manage (owners, admins).',
    authScopes: inputScope('member', 'members:manage'),
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetMemberAllowanceInput, required: true }) },
    resolve: (_root, { input }, ctx) => setMemberAllowance(ctx, input.id, input.monthlyAllowance ?? null),
  }),
  removeMember: t.field({
    type: DeletedRecordRef,
    description:
      'Needs members:manage (anyone may remove themself); only owners remove owners; the last owner stays. The keys that belonged to the member are disabled and become org keys.',
    authScopes: async (_root, { input }, ctx) => {
      const member = await ctx.db.query.orgMembers.findFirst({ where: { id: input.id } }).catch(() => undefined);
      if (member && member.userId === ctx.user?.id) return { authenticated: true };
      return { org: { id: member?.orgId ?? null, can: 'members:manage' } };
    },
    errors: { types: [NotFoundError, LastOwnerError] },
    args: { input: t.arg({ type: MemberIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await removeMember(ctx, ctx.access, input.id)).id }),
  }),
}));

export { ForbiddenError };
