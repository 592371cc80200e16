import { describe, expect, it } from 'vitest';
import { BYOK_PROVIDERS, isProviderId, PROTOCOLS, PROVIDERS, providerInfo, type ProviderId } from './catalog.ts';

/** DESIGN.md, "BYOK": the providers a customer may store credentials for, by label. */
const DESIGN_BYOK: Record<string, string> = {
  OpenAI: 'openai',
  'OpenAI Responses': 'openai-responses',
  Anthropic: 'anthropic',
  OpenRouter: 'openrouter',
  Chutes: 'chutes',
  'AWS Bedrock JSON': 'bedrock',
  'Azure JSON': 'azure',
  'Azure Responses JSON': 'azure-responses',
  Groq: 'groq',
  SambaNova: 'sambanova',
  Vercel: 'vercel',
  Novita: 'novita',
  Akash: 'akash',
  NVIDIA: 'nvidia',
  'Google AI Studio': 'google',
  Hyperbolic: 'hyperbolic',
  Morpheus: 'morpheus',
  Fireworks: 'fireworks',
  Together: 'together',
};

describe('provider catalog', () => {
  it('offers exactly the 19 BYOK providers of the design, once each', () => {
    expect(Object.keys(DESIGN_BYOK)).toHaveLength(19);
    expect(BYOK_PROVIDERS).toHaveLength(19);
    expect([...BYOK_PROVIDERS].sort()).toEqual(Object.values(DESIGN_BYOK).sort());
  });

  it('keeps operator-only providers out of BYOK', () => {
    expect(BYOK_PROVIDERS).not.toContain('deepseek');
    expect(BYOK_PROVIDERS).not.toContain('custom');
    expect([...PROVIDERS.keys()].filter((id) => !BYOK_PROVIDERS.includes(id)).sort()).toEqual(['custom', 'deepseek']);
  });

  it('gives every provider a known protocol, its own id, and an https base URL unless the credential or region decides', () => {
    for (const [id, info] of PROVIDERS) {
      expect(info.id).toBe(id);
      expect(PROTOCOLS).toContain(info.protocol);
      expect(info.baseUrl === null || info.baseUrl.startsWith('https://'), id).toBe(true);
      expect(info.baseUrl?.endsWith('/') ?? false, id).toBe(false);
    }
    expect([...PROVIDERS.values()].filter((p) => p.baseUrl === null).map((p) => p.id).sort()).toEqual(['azure', 'azure-responses', 'bedrock', 'custom']);
  });

  it('maps each provider to the wire protocol and credential kind it really speaks', () => {
    const protocols = Object.fromEntries([...PROVIDERS.values()].map((p) => [p.id, `${p.protocol}/${p.credential}`]));
    expect(protocols).toEqual({
      openai: 'openai/api_key',
      'openai-responses': 'openai-responses/api_key',
      anthropic: 'anthropic/api_key',
      openrouter: 'openai/api_key',
      chutes: 'openai/api_key',
      bedrock: 'bedrock/aws',
      azure: 'azure-openai/azure',
      'azure-responses': 'azure-responses/azure',
      groq: 'openai/api_key',
      sambanova: 'openai/api_key',
      vercel: 'openai/api_key',
      novita: 'openai/api_key',
      akash: 'openai/api_key',
      nvidia: 'openai/api_key',
      google: 'gemini/api_key',
      hyperbolic: 'openai/api_key',
      morpheus: 'openai/api_key',
      fireworks: 'openai/api_key',
      together: 'openai/api_key',
      deepseek: 'openai/api_key',
      custom: 'openai/api_key',
    });
  });

  it('recognises provider ids exactly', () => {
    for (const id of PROVIDERS.keys()) expect(isProviderId(id)).toBe(true);
    for (const text of ['', 'OpenAI', 'openai ', 'aws', 'constructor', '__proto__', 'toString']) expect(isProviderId(text), text).toBe(false);
  });

  it('providerInfo answers for every id', () => {
    const ids: ProviderId[] = [...PROVIDERS.keys()];
    expect(ids.map((id) => providerInfo(id).id)).toEqual(ids);
  });
});
