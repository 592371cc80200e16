import { describe, expect, it } from 'vitest';
import type { ImageRequest } from '../../canonical/images.ts';
import { UpstreamFormatError, type UpstreamTarget } from '../adapter.ts';
import { azureOpenAIAdapter } from '../azure/adapter.ts';
import { adapterFor } from '../registry.ts';
import { openAIAdapter } from './adapter.ts';
import { MAX_IMAGES, parseOpenAIImages } from './images.ts';
import { bodyJson } from '../testing/requests.ts';

function imageRequest(overrides: Partial<ImageRequest> = {}): ImageRequest {
  return {
    model: 'resale/dall-e-3', prompt: 'A lighthouse at dawn', n: 1, size: null, quality: null, responseFormat: null, style: null,
    background: null, outputFormat: null, outputCompression: null, moderation: null, user: null, safetyIdentifier: null, ...overrides,
  };
}

const openai: UpstreamTarget = { provider: 'openai', origin: 'https://api.openai.com', basePath: '/v1', upstreamModel: 'dall-e-3', credential: { kind: 'api_key', apiKey: 'sk-test-key' }, extraHeaders: {} };
const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

describe('OpenAI images', () => {
  it('posts only what the client set, with the upstream model', () => {
    const prepared = openAIAdapter.images!.prepare(imageRequest(), openai);
    expect([prepared.path, prepared.headers.authorization, bodyJson(prepared)]).toEqual(['/v1/images/generations', 'Bearer sk-test-key', { model: 'dall-e-3', prompt: 'A lighthouse at dawn' }]);
    const every = imageRequest({
      n: 3, size: '1792x1024', quality: 'hd', responseFormat: 'b64_json', style: 'natural', background: 'opaque', outputFormat: 'webp', outputCompression: 80, moderation: 'low', user: 'u-1', safetyIdentifier: 'hash-1',
    });
    expect(bodyJson(openAIAdapter.images!.prepare(every, openai))).toEqual({
      model: 'dall-e-3', prompt: 'A lighthouse at dawn', n: 3, size: '1792x1024', quality: 'hd', response_format: 'b64_json', style: 'natural',
      background: 'opaque', output_format: 'webp', output_compression: 80, moderation: 'low', user: 'u-1', safety_identifier: 'hash-1',
    });
  });

  it('reads the images returned, what the provider says it made, and nothing that is not an image', () => {
    const parsed = parseOpenAIImages(bytes({
      created: 1_760_000_000,
      data: [{ b64_json: 'aGk=' }, null, { revised_prompt: 'no image here' }, { url: 'https://files.example/1.png', revised_prompt: 'A lighthouse, dawn light' }],
      size: '1024x1536', quality: 'high', background: 'opaque', output_format: 'png',
      usage: { input_tokens: 10, output_tokens: 4160, total_tokens: 4170 },
    }));
    expect(parsed).toEqual({
      created: 1_760_000_000,
      data: [
        { url: null, b64Json: 'aGk=', revisedPrompt: null },
        { url: 'https://files.example/1.png', b64Json: null, revisedPrompt: 'A lighthouse, dawn light' },
      ],
      size: '1024x1536', quality: 'high', background: 'opaque', outputFormat: 'png',
    });
  });

  it(`believes at most ${MAX_IMAGES} images, and refuses a body that is no answer`, () => {
    const many = parseOpenAIImages(bytes({ created: 1, data: Array.from({ length: 25 }, (_, i) => ({ url: `https://files.example/${i}.png` })) }));
    expect(many.data).toHaveLength(MAX_IMAGES);
    expect(parseOpenAIImages(bytes({ created: 1 })).data).toEqual([]);
    expect(() => parseOpenAIImages(Buffer.from('<html>'))).toThrow(UpstreamFormatError);
    expect(() => parseOpenAIImages(bytes([]))).toThrow(UpstreamFormatError);
  });

  it('goes to an Azure image deployment with its api-version and key', () => {
    const azure: UpstreamTarget = {
      provider: 'azure', origin: 'https://my-resource.openai.azure.com', basePath: '/openai', upstreamModel: 'dalle3-prod',
      credential: { kind: 'azure', endpoint: 'https://my-resource.openai.azure.com', apiKey: 'azure-key-0123', apiVersion: '2024-10-21', deployment: null }, extraHeaders: {},
    };
    const prepared = azureOpenAIAdapter.images!.prepare(imageRequest({ size: '1024x1024' }), azure);
    expect([prepared.origin, prepared.path, prepared.headers['api-key'], prepared.headers.authorization, bodyJson(prepared)]).toEqual([
      'https://my-resource.openai.azure.com',
      '/openai/deployments/dalle3-prod/images/generations?api-version=2024-10-21',
      'azure-key-0123',
      undefined,
      { model: 'dalle3-prod', prompt: 'A lighthouse at dawn', size: '1024x1024' },
    ]);
  });

  it('is offered by the OpenAI-compatible and Azure OpenAI adapters only', () => {
    const offered = (['openai', 'openai-responses', 'anthropic', 'gemini', 'bedrock', 'azure-openai', 'azure-responses'] as const).filter((p) => adapterFor(p)?.images !== undefined);
    expect(offered).toEqual(['openai', 'azure-openai']);
  });
});
