/**
 * Requests and targets the providers' request tests build on. Test code only: nothing outside
 * `*.test.ts` imports it.
 */
import { NO_SAMPLING, type ChatRequest } from '../../canonical/chat.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
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

/** A prepared request's body as text, whether the adapter serialised it or passed bytes on. */
export function bodyText(prepared: PreparedRequest): string {
  const body = prepared.body;
  return body === null ? '' : typeof body === 'string' ? body : new TextDecoder().decode(body);
}

/** A prepared request's body as the provider reads it; null for a request without one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests compare it with toEqual or pick fields
export function bodyJson(prepared: PreparedRequest): any {
  return prepared.body === null ? null : JSON.parse(bodyText(prepared));
}
