import { providerInfo } from '@tollgate/shared';
import { builder } from '../builder.ts';
import { ConflictError, InUseError, isUuid, NotFoundError, UnsupportedProtocolError, ValidationError } from '../../errors.ts';
import { createChannel, deleteChannel, setChannelEnabled, testChannel, updateChannel } from '../../services/channels.ts';
import { OperatorTierEnum } from './enums.ts';
import { DeletedRecordRef, UpstreamTestResultRef } from './results.ts';
import { ProviderRef } from './providers.ts';

const ChannelTimeoutsRef = builder
  .objectRef<{ connectMs: number; firstByteMs: number; idleMs: number; totalMs: number }>('ChannelTimeouts')
  .implement({
    fields: (t) => ({
      connectMs: t.exposeInt('connectMs', { description: 'TCP and TLS connect.' }),
      firstByteMs: t.exposeInt('firstByteMs', { description: 'Until the first content (streams) or the whole response head.' }),
      idleMs: t.exposeInt('idleMs', { description: 'Longest silence between two chunks of a body.' }),
      totalMs: t.exposeInt('totalMs', { description: 'The whole call.' }),
    }),
  });

const ModelMappingRef = builder.objectRef<{ upstreamModel: string; channelModel: string }>('ModelMapping').implement({
  fields: (t) => ({
    upstreamModel: t.exposeString('upstreamModel', { description: 'A target\'s upstream model name.' }),
    channelModel: t.exposeString('channelModel', { description: 'The name this channel knows it by.' }),
  }),
});

const HeaderRef = builder.objectRef<{ name: string; value: string }>('Header').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
});

const ALLOW_PRIVATE_NETWORK =
  'Whether calls may reach loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local and CGNAT addresses: the operator\'s own network. ' +
  'Checked on the address each connection goes to, after DNS. Metadata addresses and Tollgate\'s own listeners are refused either way.';

// Never exposes credential_sealed: the credential leaves the control plane only towards the data plane.
export const ChannelRef = builder.drizzleObject('providerChannels', {
  name: 'Channel',
  description: 'An operator\'s provider account, serving the cheap or resale tier to every org.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { description: 'The operator\'s internal name; never shown to customers.' }),
    provider: t.exposeString('provider'),
    providerInfo: t.field({ type: ProviderRef, resolve: (c) => providerInfo(c.provider) }),
    baseUrl: t.exposeString('baseUrl', {
      description: 'Where the channel\'s API lives: the provider\'s default (for Azure the credential\'s endpoint, for Bedrock its region\'s) unless set.',
    }),
    tier: t.expose('tier', { type: OperatorTierEnum }),
    credentialLast4: t.exposeString('credentialLast4', { description: 'The last 4 characters of the credential\'s secret: all that is ever shown.' }),
    enabled: t.exposeBoolean('enabled'),
    timeouts: t.field({
      type: ChannelTimeoutsRef,
      resolve: (c) => ({ connectMs: c.connectTimeoutMs, firstByteMs: c.firstByteTimeoutMs, idleMs: c.idleTimeoutMs, totalMs: c.totalTimeoutMs }),
    }),
    retries: t.exposeInt('retries', { description: 'Extra attempts on this channel after a retryable failure, before the next target.' }),
    modelMap: t.field({
      type: [ModelMappingRef],
      resolve: (c) => Object.entries(c.modelMap).map(([upstreamModel, channelModel]) => ({ upstreamModel, channelModel })),
    }),
    extraHeaders: t.field({ type: [HeaderRef], resolve: (c) => Object.entries(c.extraHeaders).map(([name, value]) => ({ name, value })) }),
    maxConcurrency: t.exposeInt('maxConcurrency', { description: 'Concurrent requests; more are refused, not queued.' }),
    allowPrivateNetwork: t.exposeBoolean('allowPrivateNetwork', { description: ALLOW_PRIVATE_NETWORK }),
    targets: t.relation('targets', { description: 'The model targets that use this channel.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  channels: t.drizzleConnection({
    type: 'providerChannels',
    description: 'By name. Operators only.',
    authScopes: { platformAdmin: true },
    args: { provider: t.arg.string(), tier: t.arg({ type: OperatorTierEnum }), enabled: t.arg.boolean() },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.providerChannels.findMany(
        query({
          where: {
            ...(args.provider ? { provider: args.provider as never } : {}),
            ...(args.tier ? { tier: args.tier } : {}),
            ...(args.enabled != null ? { enabled: args.enabled } : {}),
          },
          orderBy: { name: 'asc' },
        }),
      ),
  }),
  channel: t.drizzleField({
    type: ChannelRef,
    nullable: true,
    authScopes: { platformAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      isUuid(args.id) ? ((await ctx.db.query.providerChannels.findFirst(query({ where: { id: args.id } }))) ?? null) : null,
  }),
}));

const ChannelTimeoutsInput = builder.inputType('ChannelTimeoutsInput', {
  description: 'Milliseconds, 1 to 3600000; none may exceed totalMs. Left out: the current value (defaults 10000 / 60000 / 60000 / 600000).',
  fields: (t) => ({ connectMs: t.int(), firstByteMs: t.int(), idleMs: t.int(), totalMs: t.int() }),
});

const ModelMappingInput = builder.inputType('ModelMappingInput', {
  fields: (t) => ({ upstreamModel: t.string({ required: true }), channelModel: t.string({ required: true }) }),
});

const HeaderInput = builder.inputType('HeaderInput', {
  description: 'Credential headers (authorization, x-api-key, api-key, x-goog-api-key, cookie, proxy-authorization, x-amz-*) are refused.',
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
});

const CreateChannelInput = builder.inputType('CreateChannelInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    provider: t.string({ required: true, description: 'A provider id from the providers query.' }),
    tier: t.field({ type: OperatorTierEnum, required: true }),
    credential: t.string({
      required: true,
      description: 'The provider\'s API key, or for AWS Bedrock and Azure the JSON object their console shows. Stored sealed; shown afterwards as its last 4 characters.',
    }),
    baseUrl: t.string({ description: 'Defaults to the provider\'s (Azure: the credential\'s endpoint; Bedrock: its region\'s); required for "custom".' }),
    enabled: t.boolean({ description: 'Defaults to true.' }),
    timeouts: t.field({ type: ChannelTimeoutsInput }),
    retries: t.int({ description: '0 to 5; defaults to 0.' }),
    modelMap: t.field({ type: [ModelMappingInput] }),
    extraHeaders: t.field({ type: [HeaderInput] }),
    maxConcurrency: t.int({ description: 'Defaults to 1000.' }),
    allowPrivateNetwork: t.boolean({ description: `${ALLOW_PRIVATE_NETWORK} Defaults to false.` }),
  }),
});

const UpdateChannelInput = builder.inputType('UpdateChannelInput', {
  description:
    'Fields left out (or null) keep their value. baseUrl: null goes back to the provider\'s default; left out, it moves to a new provider\'s default, and a default one follows a new credential (a Bedrock region). modelMap and extraHeaders replace the whole list.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    provider: t.string({ description: 'Changing it validates the credential for the new provider.' }),
    tier: t.field({ type: OperatorTierEnum }),
    credential: t.string({ description: 'A replacement credential.' }),
    baseUrl: t.string(),
    enabled: t.boolean(),
    timeouts: t.field({ type: ChannelTimeoutsInput }),
    retries: t.int(),
    modelMap: t.field({ type: [ModelMappingInput] }),
    extraHeaders: t.field({ type: [HeaderInput] }),
    maxConcurrency: t.int(),
    allowPrivateNetwork: t.boolean(),
  }),
});

const ChannelIdInput = builder.inputType('ChannelIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const TestChannelInput = builder.inputType('TestChannelInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    upstreamModel: t.string({ description: 'Defaults to the upstream model of the channel\'s first target; the channel\'s model map applies.' }),
  }),
});

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: ChannelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => createChannel(ctx, input),
  }),
  updateChannel: t.field({
    type: ChannelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: UpdateChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateChannel(ctx, input),
  }),
  enableChannel: t.field({
    type: ChannelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ChannelIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setChannelEnabled(ctx, input.id, true),
  }),
  disableChannel: t.field({
    type: ChannelRef,
    description: 'Takes the channel out of routing at once; its targets stay, for when it is enabled again.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ChannelIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => setChannelEnabled(ctx, input.id, false),
  }),
  deleteChannel: t.field({
    type: DeletedRecordRef,
    description: 'Refused with InUseError while models target the channel: remove those targets, or disable the channel instead.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, InUseError] },
    args: { input: t.arg({ type: ChannelIdInput, required: true }) },
    resolve: (_root, { input }, ctx) => deleteChannel(ctx, input.id),
  }),
  testChannel: t.field({
    type: UpstreamTestResultRef,
    description: 'Sends a one-token chat completion through the channel (disabled ones too) and reports what happened.',
    authScopes: { platformAdmin: true },
    errors: { types: [NotFoundError, ValidationError, UnsupportedProtocolError] },
    args: { input: t.arg({ type: TestChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => testChannel(ctx, input.id, input.upstreamModel ?? null),
  }),
}));
