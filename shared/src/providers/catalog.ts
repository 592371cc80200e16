/**
 * The providers Tollgate knows: for each, the wire protocol it speaks, where its API lives by
 * default, and the shape of the credential it takes. Operator channels and customers' BYOK
 * credentials both name a provider from this list. Providers that speak the OpenAI Chat
 * Completions format are configuration over one adapter.
 */
export const PROTOCOLS = ['openai', 'openai-responses', 'anthropic', 'gemini', 'bedrock', 'azure-openai', 'azure-responses'] as const;
export type ChannelProtocol = (typeof PROTOCOLS)[number];

export type CredentialKind = 'api_key' | 'aws' | 'azure';

export interface ProviderInfo {
  id: ProviderId;
  label: string;
  protocol: ChannelProtocol;
  /** Base URL including the version path; null when the credential carries it (Azure) or the region decides (Bedrock). */
  baseUrl: string | null;
  credential: CredentialKind;
  /** Prefix every key of this provider has, checked when a credential is stored. */
  keyPrefix: string | null;
}

const PROVIDER_LIST = [
  { id: 'openai', label: 'OpenAI', protocol: 'openai', baseUrl: 'https://api.openai.com/v1', credential: 'api_key', keyPrefix: 'sk-' },
  { id: 'openai-responses', label: 'OpenAI (Responses API)', protocol: 'openai-responses', baseUrl: 'https://api.openai.com/v1', credential: 'api_key', keyPrefix: 'sk-' },
  { id: 'anthropic', label: 'Anthropic', protocol: 'anthropic', baseUrl: 'https://api.anthropic.com/v1', credential: 'api_key', keyPrefix: 'sk-ant-' },
  { id: 'openrouter', label: 'OpenRouter', protocol: 'openai', baseUrl: 'https://openrouter.ai/api/v1', credential: 'api_key', keyPrefix: 'sk-or-' },
  { id: 'chutes', label: 'Chutes', protocol: 'openai', baseUrl: 'https://llm.chutes.ai/v1', credential: 'api_key', keyPrefix: null },
  { id: 'bedrock', label: 'AWS Bedrock', protocol: 'bedrock', baseUrl: null, credential: 'aws', keyPrefix: null },
  { id: 'azure', label: 'Azure OpenAI', protocol: 'azure-openai', baseUrl: null, credential: 'azure', keyPrefix: null },
  { id: 'azure-responses', label: 'Azure OpenAI (Responses API)', protocol: 'azure-responses', baseUrl: null, credential: 'azure', keyPrefix: null },
  { id: 'groq', label: 'Groq', protocol: 'openai', baseUrl: 'https://api.groq.com/openai/v1', credential: 'api_key', keyPrefix: 'gsk_' },
  { id: 'sambanova', label: 'SambaNova', protocol: 'openai', baseUrl: 'https://api.sambanova.ai/v1', credential: 'api_key', keyPrefix: null },
  { id: 'vercel', label: 'Vercel AI Gateway', protocol: 'openai', baseUrl: 'https://ai-gateway.vercel.sh/v1', credential: 'api_key', keyPrefix: null },
  { id: 'novita', label: 'Novita AI', protocol: 'openai', baseUrl: 'https://api.novita.ai/v3/openai', credential: 'api_key', keyPrefix: null },
  { id: 'akash', label: 'Akash Chat', protocol: 'openai', baseUrl: 'https://chatapi.akash.network/api/v1', credential: 'api_key', keyPrefix: null },
  { id: 'nvidia', label: 'NVIDIA NIM', protocol: 'openai', baseUrl: 'https://integrate.api.nvidia.com/v1', credential: 'api_key', keyPrefix: 'nvapi-' },
  { id: 'google', label: 'Google AI Studio', protocol: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/v1beta', credential: 'api_key', keyPrefix: 'AIza' },
  { id: 'hyperbolic', label: 'Hyperbolic', protocol: 'openai', baseUrl: 'https://api.hyperbolic.xyz/v1', credential: 'api_key', keyPrefix: null },
  { id: 'morpheus', label: 'Morpheus', protocol: 'openai', baseUrl: 'https://api.mor.org/api/v1', credential: 'api_key', keyPrefix: null },
  { id: 'fireworks', label: 'Fireworks AI', protocol: 'openai', baseUrl: 'https://api.fireworks.ai/inference/v1', credential: 'api_key', keyPrefix: 'fw_' },
  { id: 'together', label: 'Together AI', protocol: 'openai', baseUrl: 'https://api.together.xyz/v1', credential: 'api_key', keyPrefix: null },
  // Operator channels only (not a BYOK provider): any other OpenAI-compatible API at a base URL of the operator's.
  { id: 'deepseek', label: 'DeepSeek', protocol: 'openai', baseUrl: 'https://api.deepseek.com/v1', credential: 'api_key', keyPrefix: 'sk-' },
  { id: 'custom', label: 'Custom OpenAI-compatible', protocol: 'openai', baseUrl: null, credential: 'api_key', keyPrefix: null },
] as const satisfies readonly (Omit<ProviderInfo, 'id'> & { id: string })[];

export type ProviderId = (typeof PROVIDER_LIST)[number]['id'];

export const PROVIDERS: ReadonlyMap<ProviderId, ProviderInfo> = new Map(PROVIDER_LIST.map((p) => [p.id, p as ProviderInfo]));

/** The 19 providers a customer may store BYOK credentials for (DESIGN.md, "BYOK"). */
export const BYOK_PROVIDERS: readonly ProviderId[] = PROVIDER_LIST.map((p) => p.id).filter((id) => id !== 'deepseek' && id !== 'custom');

export function isProviderId(value: string): value is ProviderId {
  return PROVIDERS.has(value as ProviderId);
}

export function providerInfo(id: ProviderId): ProviderInfo {
  return PROVIDERS.get(id)!;
}
