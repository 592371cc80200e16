import { describe, expect, it } from 'vitest';
import { amzDate, canonicalQuery, canonicalUri, deriveSigningKey, signV4, uriEncode, type AwsCredentials, type SigV4Request } from './sigv4.ts';

/**
 * AWS's SigV4 test suite (the "aws-sig-v4-test-suite" AWS published with the specification, as
 * kept in awslabs/aws-c-auth tests/aws-signing-test-suite/v4): every case signs for service
 * `service` in us-east-1 at 2015-08-30T12:36:00Z with the example keys below. Each case here gives
 * the request as the suite writes it and the suite's canonical request and signature.
 */
const SUITE_KEYS: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: null };
const SUITE_TIME = new Date('2015-08-30T12:36:00Z');
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const STS_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

interface SuiteCase {
  name: string;
  request: Partial<SigV4Request> & { method: string; path: string };
  token?: string;
  signBody?: boolean;
  /** The suite's canonical request, when the case is about its form. */
  canonical?: string;
  signedHeaders: string;
  signature: string;
}

const canonical = (lines: string[]): string => lines.join('\n');

const SUITE: SuiteCase[] = [
  {
    name: 'get-vanilla',
    request: { method: 'GET', path: '/' },
    canonical: canonical(['GET', '/', '', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256]),
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    request: { method: 'POST', path: '/' },
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    request: { method: 'GET', path: '/?Param2=value2&Param1=value1' },
    canonical: canonical(['GET', '/', 'Param1=value1&Param2=value2', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256]),
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-encoded',
    request: { method: 'GET', path: '/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1' },
    canonical: canonical(['GET', '/', '%E1%88%B4=Value1&Param=Value2&Param-3=Value3', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256]),
    signedHeaders: 'host;x-amz-date',
    signature: '371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac',
  },
  {
    name: 'get-vanilla-utf8-query',
    request: { method: 'GET', path: '/?ሴ=bar' },
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-vanilla-query-unreserved',
    request: { method: 'GET', path: '/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' },
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-empty-query-key',
    request: { method: 'GET', path: '/?Param1=value1' },
    signedHeaders: 'host;x-amz-date',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'post-vanilla-empty-query-value',
    request: { method: 'POST', path: '/?Param1=value1' },
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'get-utf8',
    request: { method: 'GET', path: '/ሴ' },
    canonical: canonical(['GET', '/%E1%88%B4', '', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256]),
    signedHeaders: 'host;x-amz-date',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-unreserved',
    request: { method: 'GET', path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' },
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-space-normalized',
    request: { method: 'GET', path: '/example space/' },
    canonical: canonical(['GET', '/example%20space/', '', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date', EMPTY_SHA256]),
    signedHeaders: 'host;x-amz-date',
    signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
  },
  {
    name: 'get-slashes-normalized',
    request: { method: 'GET', path: '//example//' },
    signedHeaders: 'host;x-amz-date',
    signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84',
  },
  {
    name: 'get-relative-relative-normalized',
    request: { method: 'GET', path: '/example1/example2/../..' },
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-slash-dot-slash-normalized',
    request: { method: 'GET', path: '/./' },
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-slash-pointless-dot-normalized',
    request: { method: 'GET', path: '/./example' },
    signedHeaders: 'host;x-amz-date',
    signature: 'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5',
  },
  {
    name: 'post-header-key-sort',
    request: { method: 'POST', path: '/', headers: { 'My-Header1': 'value1' } },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'get-header-value-trim',
    request: { method: 'GET', path: '/', headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' } },
    canonical: canonical([
      'GET', '/', '', 'host:example.amazonaws.com', 'my-header1:value1', 'my-header2:"a b c"', 'x-amz-date:20150830T123600Z', '', 'host;my-header1;my-header2;x-amz-date', EMPTY_SHA256,
    ]),
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-vanilla-with-session-token',
    request: { method: 'GET', path: '/' },
    token: '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
    signedHeaders: 'host;x-amz-date;x-amz-security-token',
    signature: '07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8',
  },
  {
    name: 'post-sts-header-before',
    request: { method: 'POST', path: '/' },
    token: STS_TOKEN,
    signedHeaders: 'host;x-amz-date;x-amz-security-token',
    signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
  {
    name: 'post-x-www-form-urlencoded',
    request: { method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '13' }, body: 'Param1=value1' },
    signBody: true,
    canonical: canonical([
      'POST', '/', '',
      'content-length:13', 'content-type:application/x-www-form-urlencoded', 'host:example.amazonaws.com',
      'x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e', 'x-amz-date:20150830T123600Z', '',
      'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
      '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    ]),
    signedHeaders: 'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
    signature: 'd3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b',
  },
];

function signSuite(c: SuiteCase) {
  return signV4(
    { host: 'example.amazonaws.com', headers: {}, body: null, ...c.request },
    { service: 'service', region: 'us-east-1', credentials: { ...SUITE_KEYS, sessionToken: c.token ?? null }, now: SUITE_TIME, contentSha256Header: c.signBody === true },
  );
}

describe('SigV4: AWS signing test suite', () => {
  it.each(SUITE.map((c) => [c.name, c] as const))('%s gives the suite signature and Authorization header', (_name, c) => {
    const signed = signSuite(c);
    expect(signed.signature).toBe(c.signature);
    expect(signed.signedHeaders).toBe(c.signedHeaders);
    expect(signed.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
    );
  });

  it.each(SUITE.filter((c) => c.canonical !== undefined).map((c) => [c.name, c] as const))('%s gives the suite canonical request', (_name, c) => {
    expect(signSuite(c).canonicalRequest).toBe(c.canonical);
  });

  it('get-vanilla gives the suite string to sign', () => {
    expect(signSuite(SUITE[0]!).stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    );
  });

  it('adds exactly the headers it signs: x-amz-date, the session token, the payload hash when asked, authorization', () => {
    expect(Object.keys(signSuite(SUITE[0]!).headers)).toEqual(['x-amz-date', 'authorization']);
    const withToken = signSuite(SUITE.find((c) => c.name === 'get-vanilla-with-session-token')!);
    expect(withToken.headers['x-amz-security-token']).toBe('6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267');
    const form = signSuite(SUITE.find((c) => c.name === 'post-x-www-form-urlencoded')!);
    expect(Object.keys(form.headers)).toEqual(['x-amz-date', 'x-amz-content-sha256', 'authorization']);
  });
});

describe('SigV4: signing key', () => {
  it('derives the key of AWS\'s documented example (IAM guide: secret wJalr..., 20120215, us-east-1, iam)', () => {
    expect(deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('writes x-amz-date in UTC without separators or fraction, and refuses an invalid date', () => {
    expect(amzDate(new Date('2025-01-15T10:20:30.987+02:00'))).toBe('20250115T082030Z');
    expect(() => amzDate(new Date('nope'))).toThrow(RangeError);
  });
});

describe('SigV4: canonical forms', () => {
  it('URI-encodes all but the unreserved characters, upper-case hex, UTF-8 bytes', () => {
    expect(uriEncode("AZaz09-._~ !'()*:/%é😀")).toBe('AZaz09-._~%20%21%27%28%29%2A%3A%2F%25%C3%A9%F0%9F%98%80');
  });

  it('encodes a path as sent once more: a Bedrock model id with : sent as %3A signs as %253A', () => {
    expect(canonicalUri('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse')).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse');
    expect(canonicalUri('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0/converse-stream')).toBe(
      '/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%252Fus.amazon.nova-pro-v1%253A0/converse-stream',
    );
  });

  it('normalises dot segments and repeated slashes, keeping a trailing slash', () => {
    expect(['', '/', '//', '/a/./b/../c', '/a/b/..', '/a//b/', '/..', '/a/.'].map(canonicalUri)).toEqual(['/', '/', '/', '/a/c', '/a/', '/a/b/', '/', '/a/']);
  });

  it('decodes query names and values before encoding them (a + stays a plus), sorts by name then value, keeps bare names', () => {
    expect(canonicalQuery('b=2&a=%7e&a=1&c&d=x+y%20z&e=%zz')).toBe('a=1&a=~&b=2&c=&d=x%2By%20z&e=%25zz');
    expect(canonicalQuery('')).toBe('');
  });

  it('a caller\'s own authorization, host, date or token header is replaced, not signed twice', () => {
    const signed = signV4(
      { method: 'GET', host: 'example.amazonaws.com', path: '/', body: null, headers: { Authorization: 'stale', HOST: 'evil.example', 'X-Amz-Date': '19700101T000000Z' } },
      { service: 'service', region: 'us-east-1', credentials: SUITE_KEYS, now: SUITE_TIME },
    );
    expect(signed.signature).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});
