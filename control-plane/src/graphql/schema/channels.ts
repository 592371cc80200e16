import { randomUUID } from 'node:crypto';
import { seal, sealedKeyAssociatedData } from '@tollgate/shared';
import { providerChannels } from '../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { ConflictError, ValidationError } from '../../errors.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { TierEnum } from './enums.ts';

// Never exposes api_key_sealed: the provider key leaves the control plane only towards the data plane.
export const ProviderChannelRef = builder.drizzleObject('providerChannels', {
  name: 'ProviderChannel',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    protocol: t.exposeString('protocol'),
    baseUrl: t.exposeString('baseUrl'),
    tier: t.expose('tier', { type: TierEnum }),
    apiKeyLast4: t.exposeString('apiKeyLast4'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('channels', (t) =>
  t.drizzleField({
    type: [ProviderChannelRef],
    authScopes: { platformAdmin: true },
    resolve: (query, _root, _args, ctx) => ctx.db.query.providerChannels.findMany(query({ orderBy: { name: 'asc' } })),
  }),
);

const CreateProviderChannelInput = builder.inputType('CreateProviderChannelInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    baseUrl: t.string({ required: true, description: 'http(s) URL including the version path, e.g. https://api.openai.com/v1' }),
    apiKey: t.string({ required: true, description: 'The upstream key; stored sealed, shown afterwards as its last 4 characters.' }),
    tier: t.field({ type: TierEnum, required: true }),
    protocol: t.string({ description: 'Wire protocol; only "openai" for now (the default).' }),
  }),
});

function normaliseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ValidationError('baseUrl must be an http or https URL', 'baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError('baseUrl must be an http or https URL', 'baseUrl');
  }
  if (url.username || url.password) throw new ValidationError('baseUrl must not carry credentials; use apiKey', 'baseUrl');
  return url.toString().replace(/\/+$/, '');
}

builder.mutationField('createProviderChannel', (t) =>
  t.field({
    type: ProviderChannelRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateProviderChannelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const name = input.name.trim();
      if (!name) throw new ValidationError('name must not be empty', 'name');
      const baseUrl = normaliseBaseUrl(input.baseUrl);
      const apiKey = input.apiKey.trim();
      if (apiKey.length < 4) throw new ValidationError('apiKey is too short', 'apiKey');
      const protocol = input.protocol ?? 'openai';
      if (protocol !== 'openai') throw new ValidationError('protocol must be "openai"', 'protocol');
      // The id is chosen before the insert because the sealed key is bound to it.
      const id = randomUUID();
      try {
        const [channel] = await ctx.db
          .insert(providerChannels)
          .values({
            id,
            name,
            protocol,
            baseUrl,
            tier: input.tier,
            apiKeySealed: seal(ctx.masterKey, apiKey, sealedKeyAssociatedData(id)),
            apiKeyLast4: apiKey.slice(-4),
          })
          .returning();
        await ctx.publisher.publishRoutes();
        return channel!;
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`a channel named "${name}" already exists`);
        throw error;
      }
    },
  }),
);
