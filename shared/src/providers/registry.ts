import type { ProviderAdapter } from './adapter.ts';
import type { ChannelProtocol } from './catalog.ts';
import { anthropicAdapter } from './anthropic/adapter.ts';
import { azureOpenAIAdapter, azureResponsesAdapter } from './azure/adapter.ts';
import { bedrockAdapter } from './bedrock/adapter.ts';
import { geminiAdapter } from './gemini/adapter.ts';
import { openAIAdapter } from './openai/adapter.ts';
import { openAIResponsesAdapter } from './openai-responses/adapter.ts';

/**
 * The adapter for each wire protocol. Protocols whose adapter has not landed yet map to null: a
 * channel or credential of that protocol is stored and validated, but not routed to.
 */
const ADAPTERS: Record<ChannelProtocol, ProviderAdapter | null> = {
  openai: openAIAdapter,
  'openai-responses': openAIResponsesAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  bedrock: bedrockAdapter,
  'azure-openai': azureOpenAIAdapter,
  'azure-responses': azureResponsesAdapter,
};

export function adapterFor(protocol: ChannelProtocol): ProviderAdapter | null {
  return ADAPTERS[protocol];
}
