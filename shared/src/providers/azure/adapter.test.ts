import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import type { UpstreamTarget } from '../adapter.ts';
import type { Credential } from '../credentials.ts';
import { adapterFor } from '../registry.ts';
import { chatRequest as oneMessage, bodyJson } from '../testing/requests.ts';
import { azureOpenAIAdapter, azureResponsesAdapter } from './adapter.ts';

const chatRequest = (overrides: Partial<ChatRequest> = {}): ChatRequest => oneMessage({ model: 'resale/gpt-4o', ...overrides });

const KEY = '0123456789abcdef0123456789abcdef';
const azure = (overrides: Partial<Extract<Credential, { kind: 'azure' }>> = {}): Credential => ({
  kind: 'azure', endpoint: 'https://my-resource.openai.azure.com', apiKey: KEY, apiVersion: '2024-10-21', deployment: null, ...overrides,
});

function target(overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return { provider: 'azure', origin: 'https://my-resource.openai.azure.com', basePath: '', upstreamModel: 'gpt-4o-prod', credential: azure(), extraHeaders: {}, ...overrides };
}

const HEADERS = { 'api-key': KEY, 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'identity' };

describe('Azure OpenAI chat adapter', () => {
  it('posts to the deployment’s chat completions with the api-version and the key as api-key', () => {
    const prepared = azureOpenAIAdapter.prepareChat(chatRequest(), target());
    expect({ ...prepared, body: null }).toEqual({
      method: 'POST',
      origin: 'https://my-resource.openai.azure.com',
      path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
      headers: HEADERS,
      body: null,
    });
    expect(bodyJson(prepared)).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('uses the credential’s deployment when it names one, over the target’s upstream model', () => {
    const prepared = azureOpenAIAdapter.prepareChat(chatRequest(), target({ credential: azure({ deployment: 'my-gpt-4o.v2' }) }));
    expect([prepared.path, bodyJson(prepared).model]).toEqual(['/openai/deployments/my-gpt-4o.v2/chat/completions?api-version=2024-10-21', 'my-gpt-4o.v2']);
  });

  it('goes to the target’s base URL, not the credential’s endpoint, keeping a proxy’s path prefix', () => {
    const prepared = azureOpenAIAdapter.prepareChat(chatRequest(), target({ origin: 'https://egress.internal:8443', basePath: '/azure/eastus' }));
    expect([prepared.origin, prepared.path]).toEqual(['https://egress.internal:8443', '/azure/eastus/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21']);
  });

  it('reads an endpoint written with its /openai or /openai/v1 suffix as the resource', () => {
    for (const basePath of ['/openai', '/openai/v1', '/proxy/openai']) {
      const expected = `${basePath === '/proxy/openai' ? '/proxy' : ''}/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21`;
      expect(azureOpenAIAdapter.prepareChat(chatRequest(), target({ basePath })).path).toBe(expected);
    }
  });

  it('caps output and asks for stream usage the way the API version understands', () => {
    const body = (apiVersion: string) => bodyJson(azureOpenAIAdapter.prepareChat(chatRequest({ stream: true, maxOutputTokens: 100 }), target({ credential: azure({ apiVersion }) })));
    const modern = { model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true }, max_completion_tokens: 100 };
    expect(body('2024-10-21')).toEqual(modern);
    expect(body('2024-09-01-preview')).toEqual(modern);
    expect(body('2025-04-01-preview')).toEqual(modern);
    // Older versions refuse both fields: their streams go unmetered by the provider (estimated).
    expect(body('2024-06-01')).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }], stream: true, max_tokens: 100 });
    expect(body('2024-08-01-preview')).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }], stream: true, max_tokens: 100 });
  });

  it('keeps channel headers but never lets them replace the key, in any letter case', () => {
    const prepared = azureOpenAIAdapter.prepareChat(chatRequest(), target({ extraHeaders: { 'x-ms-useragent': 'tollgate', 'Api-Key': 'other', Authorization: 'Bearer x' } }));
    expect(prepared.headers).toEqual({ 'x-ms-useragent': 'tollgate', ...HEADERS });
  });

  it.each([
    ['a slash', 'gpt/../../admin'],
    ['a dot-dot segment', '..'],
    ['a dot segment', '.'],
    ['a query', 'gpt-4o?api-version=1'],
    ['a percent escape', 'gpt%2F4o'],
    ['a space', 'gpt 4o'],
    ['a fragment', 'gpt#x'],
    ['nothing', ''],
    ['too many characters', 'a'.repeat(257)],
    ['non-ASCII letters', 'gpt-4o-é'],
  ])('refuses a deployment with %s, before anything is sent', (_what, deployment) => {
    const expected = new GatewayError('no_channel_available', 'The Azure channel for this model names a deployment that is not a plain name (letters, digits, "-", "_" and "." only); an operator must correct it.');
    expect(() => azureOpenAIAdapter.prepareChat(chatRequest(), target({ upstreamModel: deployment }))).toThrow(expected);
    expect(() => azureOpenAIAdapter.prepareChat(chatRequest(), target({ credential: azure({ deployment }) }))).toThrow(expected);
    expect(() => azureResponsesAdapter.prepareChat(chatRequest(), target({ upstreamModel: deployment }))).toThrow(expected);
  });

  it('refuses a credential that is not an Azure one', () => {
    expect(() => azureOpenAIAdapter.prepareChat(chatRequest(), target({ credential: { kind: 'api_key', apiKey: 'sk-xxxxxxxxxxxx' } }))).toThrow(TypeError);
    expect(() => azureResponsesAdapter.prepareChat(chatRequest(), target({ credential: { kind: 'api_key', apiKey: 'sk-xxxxxxxxxxxx' } }))).toThrow(TypeError);
  });

  it('is registered for its protocol, speaks OpenAI chat natively, and signs nothing', () => {
    expect(adapterFor('azure-openai')).toBe(azureOpenAIAdapter);
    expect([azureOpenAIAdapter.protocol, azureOpenAIAdapter.nativeFormat, azureOpenAIAdapter.sign]).toEqual(['azure-openai', 'openai-chat', undefined]);
  });
});

describe('Azure Responses adapter', () => {
  it('posts to the v1 Responses API with no api-version, the deployment as the model and the key as api-key', () => {
    const prepared = azureResponsesAdapter.prepareChat(chatRequest({ maxOutputTokens: 64 }), target({ provider: 'azure-responses', basePath: '/openai/v1' }));
    expect({ ...prepared, body: null }).toEqual({ method: 'POST', origin: 'https://my-resource.openai.azure.com', path: '/openai/v1/responses', headers: HEADERS, body: null });
    expect(bodyJson(prepared)).toEqual({ model: 'gpt-4o-prod', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] }], store: false, max_output_tokens: 64 });
  });

  it('uses the credential’s deployment as the model when it names one', () => {
    const prepared = azureResponsesAdapter.prepareChat(chatRequest({ stream: true }), target({ credential: azure({ deployment: 'resp-deploy' }) }));
    expect([bodyJson(prepared).model, prepared.headers.accept]).toEqual(['resp-deploy', 'text/event-stream']);
  });

  it('is registered for its protocol and speaks the Responses format natively', () => {
    expect(adapterFor('azure-responses')).toBe(azureResponsesAdapter);
    expect([azureResponsesAdapter.protocol, azureResponsesAdapter.nativeFormat]).toEqual(['azure-responses', 'openai-responses']);
  });
});
