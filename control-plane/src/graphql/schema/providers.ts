import { adapterFor, BYOK_PROVIDERS, PROVIDERS, type ProviderInfo } from '@tollgate/shared';
import { builder } from '../builder.ts';
import { CredentialKindEnum } from './enums.ts';

export const ProviderRef = builder.objectRef<ProviderInfo>('Provider').implement({
  description: 'A provider Tollgate knows: what a channel or a BYOK credential names, and the credential it takes.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'What `provider` arguments take, e.g. "openai", "azure-responses".' }),
    label: t.exposeString('label'),
    protocol: t.exposeString('protocol'),
    credentialKind: t.field({ type: CredentialKindEnum, resolve: (p) => p.credential }),
    defaultBaseUrl: t.exposeString('baseUrl', {
      nullable: true,
      description: 'Where its API lives by default; null when the credential carries it (Azure) or the region decides (Bedrock).',
    }),
    byok: t.boolean({ description: 'Customers can store their own credential for it.', resolve: (p) => BYOK_PROVIDERS.includes(p.id) }),
    callable: t.boolean({
      description: 'Its protocol has an adapter: requests and test calls go through. Others are stored and validated only, for now.',
      resolve: (p) => adapterFor(p.protocol) !== null,
    }),
  }),
});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderRef],
    description: 'Every provider, for building channel and BYOK credential forms.',
    authScopes: { authenticated: true },
    resolve: () => [...PROVIDERS.values()],
  }),
);
