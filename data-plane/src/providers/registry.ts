import type { ChannelProtocol } from '@tollgate/shared';
import type { ProviderAdapter } from './adapter.ts';
import { openAIAdapter } from './openai/adapter.ts';

/**
 * The adapter for each wire protocol a channel may speak. A Record over the protocol union, so
 * adding a protocol to `shared` fails typechecking here until it has an adapter.
 */
const ADAPTERS: Record<ChannelProtocol, ProviderAdapter> = {
  openai: openAIAdapter,
};

export function adapterFor(protocol: ChannelProtocol): ProviderAdapter {
  return ADAPTERS[protocol];
}
