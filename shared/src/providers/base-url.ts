import { providerInfo, type ProviderId } from './catalog.ts';
import type { Credential } from './credentials.ts';

/**
 * Where a provider's API lives for a credential: the catalogue's base URL, else the credential's
 * own (an Azure resource's endpoint, a Bedrock region's runtime endpoint); null for `custom`, whose
 * base URL only an operator channel carries. Both planes use this one rule.
 */
export function providerBaseUrl(provider: ProviderId, credential: Credential): string | null {
  const catalog = providerInfo(provider).baseUrl;
  if (catalog !== null) return catalog;
  if (credential.kind === 'aws') return `https://bedrock-runtime.${credential.region}.amazonaws.com`;
  if (credential.kind === 'azure') return credential.endpoint;
  return null;
}
