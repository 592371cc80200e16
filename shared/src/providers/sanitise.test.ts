import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../keys.ts';
import { describeJsonError, plainErrorName, sanitiseProviderText } from './sanitise.ts';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('sanitiseProviderText', () => {
  it('masks OpenAI-style sk- keys', () => {
    expect(sanitiseProviderText('Incorrect API key provided: sk-proj-abcdefgh1234.')).toBe('Incorrect API key provided: sk-[redacted].');
    expect(sanitiseProviderText('key sk-ant-api03-abcdefgh rejected')).toBe('key sk-[redacted] rejected');
  });

  it('masks our own tg_ keys and tgm_ tokens', () => {
    const key = generateSecret('api_key').secret;
    const token = generateSecret('management_token').secret;
    expect(sanitiseProviderText(`got ${key} and ${token}`)).toBe('got tg_[redacted] and tgm_[redacted]');
  });

  it('masks bearer tokens, whatever the case of the scheme', () => {
    expect(sanitiseProviderText('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(sanitiseProviderText('authorization: bearer abc123short, retry')).toBe('authorization: bearer [redacted] retry');
    expect(sanitiseProviderText('BEARER x')).toBe('BEARER [redacted]');
  });

  it('masks any long key-like run, in any provider format, and keeps shorter words', () => {
    expect(sanitiseProviderText('API key not valid: AIzaSyA0123456789abcdefABCDEFghij')).toBe('API key not valid: [redacted]');
    expect(sanitiseProviderText('secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY is wrong')).toBe('secret [redacted] is wrong');
    expect(sanitiseProviderText('gsk_0123456789abcdefABCDEF0123')).toBe('[redacted]');
    // 23 characters is not key-like yet; 24 is.
    expect(sanitiseProviderText('a'.repeat(23))).toBe('a'.repeat(23));
    expect(sanitiseProviderText('a'.repeat(24))).toBe('[redacted]');
  });

  it('drops control characters, as one space per run', () => {
    expect(sanitiseProviderText('line one\nline two\r\n\tindented\u0000\u001b[31mred\u007f')).toBe('line one line two indented [31mred');
  });

  it('trims and bounds the length', () => {
    expect(sanitiseProviderText('  padded  ')).toBe('padded');
    const long = 'word '.repeat(200);
    expect(sanitiseProviderText(long)).toBe(`${long.slice(0, 300)}…`);
    expect(sanitiseProviderText('x '.repeat(150).trim())).toBe('x '.repeat(150).trim());
  });

  it('never returns a control character, a long key-like run or more than 301 characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }), fc.constantFrom('é', '👋', '\u2028')), maxLength: 600 }), (text) => {
        const out = sanitiseProviderText(text);
        expect(out.length <= 301 && !/[\u0000-\u001f\u007f]/.test(out) && !/[A-Za-z0-9_\-+/=.]{24,}/.test(out)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('masks a secret wherever it sits in other text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.string({ maxLength: 50 }), fc.stringMatching(/^[A-Za-z0-9]{24,60}$/), (before, after, secret) => {
        expect(sanitiseProviderText(`${before} ${secret} ${after}`)).not.toContain(secret);
        expect(sanitiseProviderText(`${before} Bearer ${secret.slice(0, 10)} ${after}`)).not.toContain(secret.slice(0, 10));
      }),
    );
  });
});

describe('plainErrorName', () => {
  it('keeps error names of letters and _, however long, and nothing else', () => {
    expect(['ServiceUnavailableException', 'modelStreamErrorException', 'RESOURCE_EXHAUSTED', 'rate_limit_exceeded'].map(plainErrorName)).toEqual([
      'ServiceUnavailableException',
      'modelStreamErrorException',
      'RESOURCE_EXHAUSTED',
      'rate_limit_exceeded',
    ]);
    expect(['sk-proj-abc', 'AKIAIOSFODNN7EXAMPLE', '503', 'Throttling Exception', '', 'x'.repeat(65), null, undefined].map(plainErrorName)).toEqual(Array(8).fill(null));
  });
});

describe('describeJsonError', () => {
  it('reads the OpenAI shape: type, code and message', () => {
    expect(describeJsonError(429, bytes({ error: { message: 'Rate limit reached for gpt-4o', type: 'requests', param: null, code: 'rate_limit_exceeded' } }))).toBe(
      'HTTP 429: requests / rate_limit_exceeded / Rate limit reached for gpt-4o',
    );
  });

  it('reads the Anthropic shape', () => {
    expect(describeJsonError(529, bytes({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))).toBe('HTTP 529: overloaded_error / Overloaded');
  });

  it('reads the Google shape, with a numeric code and a status', () => {
    expect(describeJsonError(429, bytes({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }))).toBe(
      'HTTP 429: 429 / RESOURCE_EXHAUSTED / Resource has been exhausted',
    );
  });

  it('reads a bare error string and a top-level message', () => {
    expect(describeJsonError(503, bytes({ error: 'no healthy upstream' }))).toBe('HTTP 503: no healthy upstream');
    expect(describeJsonError(404, bytes({ message: 'Model not found', code: 'model_not_found' }))).toBe('HTTP 404: model_not_found / Model not found');
  });

  it('falls back to the status alone for shapes it does not know', () => {
    for (const body of [null, [], [{ error: { message: 'x' } }], { detail: 'nope' }, { error: { message: { nested: true }, type: ['x'] } }, 5, true]) {
      expect(describeJsonError(500, bytes(body)), JSON.stringify(body)).toBe('HTTP 500');
    }
  });

  it('never echoes a body that is not JSON, only its size', () => {
    const html = '<html>sk-live-abcdefghijkl upstream broke</html>';
    expect(describeJsonError(502, bytes(html))).toBe(`HTTP 502 (non-JSON error body, ${html.length} bytes)`);
    expect(describeJsonError(502, new Uint8Array(0))).toBe('HTTP 502 (non-JSON error body, 0 bytes)');
  });

  it('sanitises what it reads', () => {
    const key = generateSecret('api_key').secret;
    const described = describeJsonError(401, bytes({ error: { type: 'auth', message: `Invalid key ${key}\nfor org\u0000 ${'x '.repeat(400)}` } }));
    expect(described).not.toContain(key.slice(3));
    expect(described.startsWith('HTTP 401: auth / Invalid key tg_[redacted] for org  x x')).toBe(true);
    expect(described).toHaveLength(301);
  });
});
