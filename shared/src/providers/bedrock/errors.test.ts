import { describe, expect, it } from 'vitest';
import { bedrockAdapter } from './adapter.ts';

const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const describeError = (status: number, text: string): string => bedrockAdapter.describeError(status, body(text));

describe('Bedrock describeError', () => {
  it('reads the message of AWS JSON errors, lower or upper case', () => {
    expect(describeError(400, '{"message":"Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again."}')).toBe(
      'HTTP 400: Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again.',
    );
    expect(describeError(403, '{"Message":"User is not authorized to perform: bedrock:InvokeModel"}')).toBe('HTTP 403: User is not authorized to perform: bedrock:InvokeModel');
  });

  it('names the error type when the body carries it, without namespace or URL', () => {
    expect(describeError(429, '{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Too many requests, please wait before trying again."}')).toBe(
      'HTTP 429: ThrottlingException / Too many requests, please wait before trying again.',
    );
    expect(describeError(400, '{"__type":"ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/","message":"bad"}')).toBe('HTTP 400: ValidationException / bad');
  });

  it('masks key-like text in the message and bounds its length', () => {
    expect(describeError(403, '{"message":"The security token included in the request is invalid: ASIAY34FZKBOKMUTVV7AFwoGZXIvYXdzEXAMPLE"}')).toBe('HTTP 403: The security token included in the request is invalid: [redacted]');
    expect(describeError(400, JSON.stringify({ message: 'word '.repeat(200) })).length).toBeLessThanOrEqual(301);
  });

  it('falls back to the status for bodies that are not JSON or say nothing', () => {
    expect(describeError(502, '<html>Bad Gateway</html>')).toBe('HTTP 502 (non-JSON error body, 24 bytes)');
    expect(describeError(500, '{}')).toBe('HTTP 500');
    expect(describeError(500, 'null')).toBe('HTTP 500');
  });
});
