import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../canonical/chat.ts';
import { adapterFor } from '../registry.ts';
import { chatRequest } from '../testing/requests.ts';
import { bedrockAdapter, createBedrockAdapter } from './adapter.ts';
import { messageStart } from './__fixtures__/captures.ts';

const request: ChatRequest = chatRequest({ model: 'byok/nova' });

describe('Bedrock adapter', () => {
  it('is the registered adapter of the bedrock protocol, with no native client format', () => {
    expect(adapterFor('bedrock')).toBe(bedrockAdapter);
    expect(bedrockAdapter.protocol).toBe('bedrock');
    expect(bedrockAdapter.nativeFormat).toBe(null);
  });

  it('takes the creation time of answers and streams from its clock', () => {
    const adapter = createBedrockAdapter(() => 1_700_000_000);
    const body = new TextEncoder().encode('{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn"}');
    expect(adapter.parseChatResponse(body).created).toBe(1_700_000_000);
    expect(adapter.newStreamDecoder({ maxFrameChars: 4096 }).push(messageStart())[0]?.events).toEqual([{ type: 'start', id: '', model: '', created: 1_700_000_000 }]);
  });

  it('signs what it prepares: the signed request differs only by the three headers the signature adds', () => {
    const credential = { kind: 'aws' as const, accessKeyId: 'AKIDEXAMPLE0EXAMPLE0', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-west-2', sessionToken: 'token' };
    const target = { provider: 'bedrock' as const, origin: 'https://bedrock-runtime.us-west-2.amazonaws.com', basePath: '', upstreamModel: 'amazon.nova-lite-v1:0', credential, extraHeaders: {} };
    const prepared = bedrockAdapter.prepareChat(request, target);
    const signed = bedrockAdapter.sign!(prepared, credential, new Date('2025-03-04T05:06:07Z'));
    const { 'x-amz-date': date, 'x-amz-security-token': token, authorization, ...rest } = signed.headers;
    expect({ ...signed, headers: rest }).toEqual(prepared);
    expect([date, token, authorization?.split(', ').slice(0, 2)]).toEqual([
      '20250304T050607Z',
      'token',
      ['AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0EXAMPLE0/20250304/us-west-2/bedrock/aws4_request', 'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token'],
    ]);
  });
});
