/**
 * Requests and targets the providers' request tests build on. Test code only: nothing outside
 * `*.test.ts` imports it.
 */
import { NO_SAMPLING, type ChatRequest } from '../../canonical/chat.ts';
import type { UpstreamTarget } from '../adapter.ts';
import type { ProviderId } from '../catalog.ts';

/** A chat request of one user message, "Hi", that asks for nothing else; `overrides` on top. */
export function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'm',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }], name: null }],
    tools: [],
    toolChoice: null,
    parallelToolCalls: null,
    responseFormat: null,
    sampling: { ...NO_SAMPLING, stop: [] },
    maxOutputTokens: null,
    n: 1,
    stream: false,
    includeUsage: false,
    reasoningEffort: null,
    user: null,
    ...overrides,
  };
}

/** A target of `provider` at `baseUrl` (origin and base path), paid with an API key, with no extra headers unless overridden. */
export function apiKeyTarget(provider: ProviderId, baseUrl: string, upstreamModel: string, apiKey: string, overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  const url = new URL(baseUrl);
  return { provider, origin: url.origin, basePath: url.pathname, upstreamModel, credential: { kind: 'api_key', apiKey }, extraHeaders: {}, ...overrides };
}
