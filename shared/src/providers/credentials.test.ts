import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROVIDERS, providerInfo, type ProviderId } from './catalog.ts';
import { credentialLast4, CredentialFormatError, decodeCredential, encodeCredential, parseCredential, type Credential } from './credentials.ts';

/** A well-formed key for each API-key provider, carrying its prefix where it has one. */
const VALID_KEYS: Record<string, string> = {
  openai: 'sk-proj-AbCdEf0123456789wxyz',
  'openai-responses': 'sk-proj-AbCdEf0123456789wxyz',
  anthropic: 'sk-ant-api03-AbCdEf0123456789-wxyz',
  openrouter: 'sk-or-v1-0123456789abcdef0123',
  chutes: 'cpk_0123456789abcdef.0123',
  groq: 'gsk_0123456789abcdefABCDEF',
  sambanova: '01234567-89ab-cdef-0123-456789abcdef',
  vercel: 'vck_0123456789abcdefABCDEF',
  novita: 'sk_0123456789abcdefABCDEF',
  akash: 'sk-akash-0123456789abcdef',
  nvidia: 'nvapi-0123456789abcdefABCDEF',
  google: 'AIzaSyA0123456789abcdefABCDEFghij',
  hyperbolic: 'eyJhbGciOiJIUzI1NiJ9.payload.signature',
  morpheus: 'sk-mor-0123456789abcdef',
  fireworks: 'fw_0123456789abcdefABCDEF',
  together: 'tgp_v1_0123456789abcdefABCDEF',
  deepseek: 'sk-0123456789abcdef01234567',
  custom: 'any-printable-token-1234',
};

const apiKeyProviders = [...PROVIDERS.values()].filter((p) => p.credential === 'api_key');

const AWS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const AZURE = { endpoint: 'https://my-resource.openai.azure.com/', apiKey: '0123456789abcdef0123456789abcdef', apiVersion: '2024-10-21' };

/** The CredentialFormatError a call throws (fails the test when it throws nothing or something else). */
function refusal(call: () => unknown): CredentialFormatError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialFormatError);
    return error as CredentialFormatError;
  }
  throw new Error('expected a CredentialFormatError, nothing was thrown');
}

describe('parseCredential: API keys', () => {
  it('has a sample key for every API-key provider', () => {
    expect(apiKeyProviders.map((p) => p.id).sort()).toEqual(Object.keys(VALID_KEYS).sort());
  });

  it.each(apiKeyProviders.map((p) => [p.id, p.keyPrefix] as const))('%s accepts its own key shape (prefix %s)', (id, prefix) => {
    const key = VALID_KEYS[id]!;
    expect(key.startsWith(prefix ?? '')).toBe(true);
    expect(parseCredential(id, key)).toEqual({ kind: 'api_key', apiKey: key });
    expect(parseCredential(id, `  ${key}\n`)).toEqual({ kind: 'api_key', apiKey: key });
  });

  it.each(apiKeyProviders.filter((p) => p.keyPrefix !== null).map((p) => [p.id, p.keyPrefix!] as const))(
    '%s refuses a key without its prefix %s',
    (id, prefix) => {
      const error = refusal(() => parseCredential(id, 'xx-0123456789abcdefABCDEF'));
      expect(error.field).toBe('apiKey');
      expect(error.message).toBe(`a ${providerInfo(id).label} key starts with "${prefix}"`);
    },
  );

  it('tells Anthropic keys from OpenAI keys by prefix', () => {
    expect(refusal(() => parseCredential('anthropic', VALID_KEYS.openai!)).field).toBe('apiKey');
  });

  it.each([
    ['too short', 'sk-1234'],
    ['empty', ''],
    ['only spaces', '        '],
    ['an inner space', 'sk-0123 456789abcdef'],
    ['a control character', 'sk-0123\u0000456789abcdef'],
    ['a non-ASCII character', 'sk-0123456789abcdéf'],
    ['too long', `sk-${'a'.repeat(4094)}`],
  ])('refuses %s', (_what, key) => {
    const error = refusal(() => parseCredential('openai', key));
    expect(error.field).toBe('apiKey');
  });

  it('accepts exactly 8 and exactly 4096 characters', () => {
    expect(parseCredential('openai', 'sk-12345')).toEqual({ kind: 'api_key', apiKey: 'sk-12345' });
    const longest = `sk-${'a'.repeat(4093)}`;
    expect(parseCredential('openai', longest)).toEqual({ kind: 'api_key', apiKey: longest });
  });
});

describe('parseCredential: AWS Bedrock JSON', () => {
  const bedrock = (value: unknown): string => JSON.stringify(value);

  it('accepts long-term keys, and temporary keys with a session token', () => {
    expect(parseCredential('bedrock', bedrock(AWS))).toEqual({ kind: 'aws', ...AWS, sessionToken: null });
    expect(parseCredential('bedrock', bedrock({ ...AWS, region: 'us-gov-west-1', sessionToken: '' }))).toEqual({ kind: 'aws', ...AWS, region: 'us-gov-west-1', sessionToken: null });
    const temporary = { ...AWS, accessKeyId: 'ASIAIOSFODNN7EXAMPLE', region: 'eu-central-1', sessionToken: ' FwoGZXIvYXdzEBYaD//token== ' };
    expect(parseCredential('bedrock', bedrock(temporary))).toEqual({ kind: 'aws', ...temporary, sessionToken: 'FwoGZXIvYXdzEBYaD//token==' });
  });

  it.each([
    ['not JSON', 'AKIAIOSFODNN7EXAMPLE:secret', null],
    ['a JSON array', '[]', null],
    ['JSON null', 'null', null],
    ['a JSON string', '"AKIAIOSFODNN7EXAMPLE"', null],
    ['no access key id', bedrock({ ...AWS, accessKeyId: undefined }), 'accessKeyId'],
    ['a malformed access key id', bedrock({ ...AWS, accessKeyId: 'AKIA123' }), 'accessKeyId'],
    ['a lower-case access key id', bedrock({ ...AWS, accessKeyId: 'akiaiosfodnn7example' }), 'accessKeyId'],
    ['an access key id that is a number', bedrock({ ...AWS, accessKeyId: 12345678901234567890 }), 'accessKeyId'],
    ['a 39-character secret', bedrock({ ...AWS, secretAccessKey: AWS.secretAccessKey.slice(1) }), 'secretAccessKey'],
    ['a 41-character secret', bedrock({ ...AWS, secretAccessKey: `${AWS.secretAccessKey}x` }), 'secretAccessKey'],
    ['a secret with a space', bedrock({ ...AWS, secretAccessKey: `${AWS.secretAccessKey.slice(1, 20)} ${AWS.secretAccessKey.slice(20)}` }), 'secretAccessKey'],
    ['no region', bedrock({ ...AWS, region: undefined }), 'region'],
    ['a malformed region', bedrock({ ...AWS, region: 'US-EAST-1' }), 'region'],
    ['a region without its number', bedrock({ ...AWS, region: 'us-east' }), 'region'],
    ['a temporary key without a session token', bedrock({ ...AWS, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' }), 'sessionToken'],
    ['a session token that is not a string', bedrock({ ...AWS, sessionToken: 42 }), 'sessionToken'],
  ])('refuses %s', (_what, text, field) => {
    expect(refusal(() => parseCredential('bedrock', text)).field).toBe(field);
  });
});

describe('parseCredential: Azure JSON', () => {
  const azure = (value: unknown): string => JSON.stringify(value);

  it.each(['azure', 'azure-responses'] as const)('%s accepts the resource endpoint, key, version and optional deployment', (provider) => {
    expect(parseCredential(provider, azure(AZURE))).toEqual({ kind: 'azure', ...AZURE, endpoint: 'https://my-resource.openai.azure.com', deployment: null });
    expect(parseCredential(provider, azure({ ...AZURE, endpoint: 'https://x.cognitiveservices.azure.com/openai//', apiVersion: '2025-04-01-preview', deployment: 'gpt-4o-prod' }))).toEqual({
      kind: 'azure', endpoint: 'https://x.cognitiveservices.azure.com/openai', apiKey: AZURE.apiKey, apiVersion: '2025-04-01-preview', deployment: 'gpt-4o-prod',
    });
  });

  it.each([
    ['not JSON', 'https://my-resource.openai.azure.com', null],
    ['a JSON array', '[1]', null],
    ['no endpoint', azure({ ...AZURE, endpoint: undefined }), 'endpoint'],
    ['an endpoint that is not a URL', azure({ ...AZURE, endpoint: 'my-resource' }), 'endpoint'],
    ['a plain http endpoint', azure({ ...AZURE, endpoint: 'http://my-resource.openai.azure.com' }), 'endpoint'],
    ['an endpoint carrying credentials', azure({ ...AZURE, endpoint: 'https://user:pass@my-resource.openai.azure.com' }), 'endpoint'],
    ['an endpoint with a query', azure({ ...AZURE, endpoint: 'https://my-resource.openai.azure.com/?api-key=x' }), 'endpoint'],
    ['an endpoint with a fragment', azure({ ...AZURE, endpoint: 'https://my-resource.openai.azure.com/#x' }), 'endpoint'],
    ['no api key', azure({ ...AZURE, apiKey: undefined }), 'apiKey'],
    ['a short api key', azure({ ...AZURE, apiKey: 'short' }), 'apiKey'],
    ['no api version', azure({ ...AZURE, apiVersion: undefined }), 'apiVersion'],
    ['a malformed api version', azure({ ...AZURE, apiVersion: 'latest' }), 'apiVersion'],
    ['a deployment that is not a string', azure({ ...AZURE, deployment: ['a'] }), 'deployment'],
  ])('refuses %s', (_what, text, field) => {
    expect(refusal(() => parseCredential('azure', text)).field).toBe(field);
  });
});

describe('parseCredential error messages', () => {
  // Each shape puts the submitted secret where it will be refused.
  const refusedShapes: [ProviderId, (secret: string) => string][] = [
    ['openai', (s) => `xx-${s}`],
    ['openai', (s) => `sk-${s} ${s}`],
    ['groq', (s) => s],
    ['chutes', (s) => `${s}\u0001`],
    ['google', (s) => `sk-${s}`],
    ['bedrock', (s) => `{"accessKeyId":"${s}"`],
    ['bedrock', (s) => s],
    ['bedrock', (s) => JSON.stringify({ ...AWS, accessKeyId: s })],
    ['bedrock', (s) => JSON.stringify({ ...AWS, secretAccessKey: s })],
    ['bedrock', (s) => JSON.stringify({ ...AWS, region: s })],
    ['bedrock', (s) => JSON.stringify({ ...AWS, accessKeyId: 'ASIAIOSFODNN7EXAMPLE', sessionToken: { s } })],
    ['azure', (s) => `{"apiKey":"${s}"`],
    ['azure', (s) => JSON.stringify({ ...AZURE, apiKey: `${s} ${s}` })],
    ['azure', (s) => JSON.stringify({ ...AZURE, endpoint: `http://${s}.example.com` })],
    ['azure', (s) => JSON.stringify({ ...AZURE, endpoint: `https://user:${s}@example.com` })],
    ['azure', (s) => JSON.stringify({ ...AZURE, endpoint: `https://example.com/?key=${s}` })],
    ['azure', (s) => JSON.stringify({ ...AZURE, apiVersion: s })],
  ];

  it('never repeat the submitted secret (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{12,40}$/), fc.constantFrom(...refusedShapes), (secret, [provider, shape]) => {
        const error = refusal(() => parseCredential(provider, shape(secret)));
        expect(error.message).not.toContain(secret);
        expect(String(error.stack)).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});

describe('credentialLast4', () => {
  it('shows the last 4 characters of the secret part only', () => {
    expect(credentialLast4({ kind: 'api_key', apiKey: 'sk-proj-abcdWXYZ' })).toBe('WXYZ');
    expect(credentialLast4({ kind: 'aws', ...AWS, sessionToken: null })).toBe('EKEY');
    expect(credentialLast4({ kind: 'azure', ...AZURE, deployment: null })).toBe('cdef');
  });
});

describe('credential records', () => {
  const samples: Credential[] = [
    { kind: 'api_key', apiKey: 'sk-proj-abc' },
    { kind: 'aws', ...AWS, sessionToken: null },
    { kind: 'aws', ...AWS, accessKeyId: 'ASIAIOSFODNN7EXAMPLE', sessionToken: 'token==' },
    { kind: 'azure', ...AZURE, deployment: null },
    { kind: 'azure', ...AZURE, deployment: 'gpt-4o' },
  ];

  it.each(samples.map((c) => [c.kind, c] as const))('round-trips a %s credential', (_kind, credential) => {
    expect(decodeCredential(encodeCredential(credential))).toEqual(credential);
  });

  it('round-trips whatever parseCredential produced', () => {
    for (const text of [VALID_KEYS.groq!, JSON.stringify(AWS)]) {
      const provider: ProviderId = text.startsWith('{') ? 'bedrock' : 'groq';
      const parsed = parseCredential(provider, text);
      expect(decodeCredential(encodeCredential(parsed))).toEqual(parsed);
    }
  });

  it('keeps only the known fields', () => {
    expect(decodeCredential('{"kind":"api_key","apiKey":"k","baseUrl":"https://evil.example"}')).toEqual({ kind: 'api_key', apiKey: 'k' });
    expect(decodeCredential(JSON.stringify({ kind: 'aws', ...AWS, sessionToken: 5 }))).toEqual({ kind: 'aws', ...AWS, sessionToken: null });
  });

  it.each([
    'null',
    '5',
    '"sk-string"',
    '[]',
    '{}',
    '{"kind":"oauth","token":"x"}',
    '{"kind":"api_key"}',
    '{"kind":"api_key","apiKey":5}',
    '{"kind":"aws","accessKeyId":"AKIA","secretAccessKey":"s"}',
    '{"kind":"aws","accessKeyId":1,"secretAccessKey":"s","region":"us-east-1"}',
    '{"kind":"azure","endpoint":"https://x","apiKey":"k"}',
    '{"kind":"azure","endpoint":null,"apiKey":"k","apiVersion":"2024-10-21"}',
    '{"kind":["api_key"],"apiKey":"k"}',
  ])('refuses the unknown shape %s', (text) => {
    expect(() => decodeCredential(text)).toThrow(CredentialFormatError);
  });

  it('refuses text that is not JSON without quoting it (it is a secret)', () => {
    const error = refusal(() => decodeCredential('gsk_plainLegacySecret0123'));
    expect(error.message).not.toContain('gsk_');
    expect(error.message).not.toContain('plainLegacySecret');
  });
});
