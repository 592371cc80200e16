import { NotFoundError, UnsupportedProtocolError, ValidationError } from '../../errors.ts';
import { deleteByokCredential, setByokCredential, testByokCredential } from '../../services/byok.ts';
import { builder } from '../builder.ts';
import { inputScope } from '../scopes.ts';
import { DeletedRecordRef, UpstreamTestResultRef } from './results.ts';

// Never exposes credential_sealed: only the last 4 characters of a customer's credential are shown.
export const ByokCredentialRef = builder.drizzleObject('byokCredentials', {
  name: 'ByokCredential',
  description: 'An org\'s own credential for a provider, used only for that org\'s byok/ requests.',
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeString('provider'),
    last4: t.exposeString('credentialLast4', { description: 'The last 4 characters of the credential\'s secret: all that is ever shown.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the credential was last replaced.' }),
  }),
});

const SetByokCredentialInput = builder.inputType('SetByokCredentialInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    provider: t.string({ required: true, description: 'A BYOK provider id from the providers query.' }),
    credential: t.string({
      required: true,
      description: 'The API key, or for AWS Bedrock and Azure the JSON object the providers query describes. Replaces the org\'s credential for the provider, if any.',
    }),
  }),
});

const ByokCredentialKeyInput = builder.inputType('ByokCredentialKeyInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), provider: t.string({ required: true }) }),
});

const TestByokCredentialInput = builder.inputType('TestByokCredentialInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    provider: t.string({ required: true }),
    upstreamModel: t.string({ description: 'Defaults to the upstream model of the first model with a BYOK target for the provider.' }),
  }),
});

builder.mutationFields((t) => ({
  setByokCredential: t.field({
    type: ByokCredentialRef,
    description: 'Stores the org\'s credential for a provider, or replaces it. Validated for the provider and stored sealed. Needs byok:write.',
    authScopes: inputScope('org', 'byok:write', 'orgId'),
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: SetByokCredentialInput, required: true }) },
    resolve: (_root, { input }, ctx) => setByokCredential(ctx, input),
  }),
  deleteByokCredential: t.field({
    type: DeletedRecordRef,
    description: 'The org\'s byok requests to the provider stop at once. Needs byok:write.',
    authScopes: inputScope('org', 'byok:write', 'orgId'),
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: ByokCredentialKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ id: (await deleteByokCredential(ctx, input)).id }),
  }),
  testByokCredential: t.field({
    type: UpstreamTestResultRef,
    description: 'Sends a one-token chat completion with the org\'s credential and reports what happened. Needs byok:write.',
    authScopes: inputScope('org', 'byok:write', 'orgId'),
    errors: { types: [ValidationError, NotFoundError, UnsupportedProtocolError] },
    args: { input: t.arg({ type: TestByokCredentialInput, required: true }) },
    resolve: (_root, { input }, ctx) => testByokCredential(ctx, { ...input, upstreamModel: input.upstreamModel ?? null }),
  }),
}));
