import { describe, expect, it } from 'vitest';
import { encodeEventStreamMessage } from '../../wire/event-stream.ts';
import { bedrockAdapter } from './adapter.ts';

const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const describeError = (status: number, text: string, headers?: Record<string, string>): string => bedrockAdapter.describeError(status, body(text), headers);
const THROTTLED = 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/';

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

  it('names the error type from the x-amzn-ErrorType header when the body has none, whatever the header’s case', () => {
    expect(describeError(429, '{"message":"Too many requests, please wait before trying again."}', { 'x-amzn-errortype': THROTTLED })).toBe(
      'HTTP 429: ThrottlingException / Too many requests, please wait before trying again.',
    );
    expect(describeError(403, '{"Message":"The security token included in the request is invalid."}', { 'X-Amzn-ErrorType': 'UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/' })).toBe(
      'HTTP 403: UnrecognizedClientException / The security token included in the request is invalid.',
    );
    expect(describeError(503, '<html>Service Unavailable</html>', { 'x-amzn-errortype': 'ServiceUnavailableException' })).toBe('HTTP 503: ServiceUnavailableException (non-JSON error body, 32 bytes)');
    expect(describeError(500, '{}', { 'x-amzn-errortype': 'InternalServerException' })).toBe('HTTP 500: InternalServerException');
  });

  it('prefers the body’s own type, and ignores a header type that is not a plain name', () => {
    expect(describeError(400, '{"__type":"ValidationException","message":"bad"}', { 'x-amzn-errortype': THROTTLED })).toBe('HTTP 400: ValidationException / bad');
    expect(describeError(429, '{"message":"slow down"}', { 'x-amzn-errortype': 'Throttling <script> key sk-live-0123456789abcdef0123' })).toBe('HTTP 429: slow down');
  });

  it('reads an error body in event-stream framing by its :exception-type or :error-code header', () => {
    const framed = (headers: [string, string][], payload: string): Uint8Array => encodeEventStreamMessage(headers, payload);
    const exception = framed(
      [
        [':exception-type', 'throttlingException'],
        [':content-type', 'application/json'],
        [':message-type', 'exception'],
      ],
      '{"message":"Too many requests, please wait before trying again."}',
    );
    expect(bedrockAdapter.describeError(429, exception)).toBe('HTTP 429: throttlingException / Too many requests, please wait before trying again.');
    const error = framed(
      [
        [':error-code', 'InternalFailure'],
        [':error-message', 'stream failed'],
        [':message-type', 'error'],
      ],
      '',
    );
    expect(bedrockAdapter.describeError(500, error)).toBe('HTTP 500: InternalFailure / stream failed');
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
