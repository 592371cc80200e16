import { describe, expect, it } from 'vitest';
import { checkSignature, type AwsKeys } from './bedrock.ts';
import type { SeenRequest } from './protocol-server.ts';

/**
 * The fake's SigV4 check against AWS's own signing test suite (aws-sig-v4-test-suite: service
 * `service`, us-east-1, 2015-08-30T12:36:00Z, the example keys), so the golden suite's "signature
 * verified" means AWS's rules and not merely agreement with the gateway's signer.
 */
const SUITE_KEYS: AwsKeys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);

function suiteRequest(method: string, url: string, signedHeaders: string, signature: string, headers: Record<string, string> = {}, body = ''): SeenRequest {
  const parsed = new URL(url, 'https://example.amazonaws.com');
  return {
    method,
    path: url.split('?')[0]!,
    query: parsed.searchParams,
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      ...headers,
    },
    raw: Buffer.from(body),
    body: null,
  };
}

const check = (request: SeenRequest, keys = SUITE_KEYS, now = SUITE_TIME) => checkSignature(request, keys, 'service', now);

describe('the fake Bedrock’s SigV4 check', () => {
  it.each([
    ['post-vanilla', suiteRequest('POST', '/', 'host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b')],
    ['get-vanilla-query-order-key-case', suiteRequest('GET', '/?Param2=value2&Param1=value1', 'host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500')],
    ['post-header-key-sort', suiteRequest('POST', '/', 'host;my-header1;x-amz-date', 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c', { 'my-header1': 'value1' })],
    [
      'get-header-value-trim',
      suiteRequest('GET', '/', 'host;my-header1;my-header2;x-amz-date', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736', { 'my-header1': ' value1', 'my-header2': ' "a   b   c"' }),
    ],
  ])('accepts AWS’s %s case', (_name, request) => {
    expect(check(request)).toEqual({ ok: true, reason: null });
  });

  it('refuses a changed body, header or secret, a stranger’s key, a stale date and a missing signature', () => {
    const good = (): SeenRequest => suiteRequest('POST', '/', 'host;my-header1;x-amz-date', 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c', { 'my-header1': 'value1' });
    const tampered = (change: (r: SeenRequest) => void): SeenRequest => {
      const r = good();
      change(r);
      return r;
    };
    expect([
      check(tampered((r) => (r.raw = Buffer.from('{}')))),
      check(tampered((r) => (r.headers['my-header1'] = 'value2'))),
      check(good(), { ...SUITE_KEYS, secretAccessKey: 'X'.repeat(40) }),
      check(good(), { ...SUITE_KEYS, accessKeyId: 'AKIDOTHER' }),
      check(good(), SUITE_KEYS, SUITE_TIME + 6 * 60_000),
      check(tampered((r) => delete r.headers.authorization)),
    ]).toEqual([
      { ok: false, reason: 'signature mismatch', errorType: 'InvalidSignatureException' },
      { ok: false, reason: 'signature mismatch', errorType: 'InvalidSignatureException' },
      { ok: false, reason: 'signature mismatch', errorType: 'InvalidSignatureException' },
      { ok: false, reason: 'unknown access key AKIDEXAMPLE', errorType: 'UnrecognizedClientException' },
      { ok: false, reason: 'signature expired or from the future', errorType: 'InvalidSignatureException' },
      { ok: false, reason: 'missing or malformed Authorization', errorType: 'IncompleteSignatureException' },
    ]);
  });
});
