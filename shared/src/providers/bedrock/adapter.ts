import type { PreparedRequest, ProviderAdapter } from '../adapter.ts';
import type { Credential } from '../credentials.ts';
import { describeBedrockError } from './errors.ts';
import { converseRequest } from './request.ts';
import { parseConverseResponse } from './response.ts';
import { signV4 } from './sigv4.ts';
import { BedrockStreamDecoder } from './stream.ts';

/** The SigV4 signing name of bedrock-runtime (its endpoints are `bedrock-runtime.<region>.amazonaws.com`). */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

/**
 * Headers the signature covers besides host and the x-amz-* it adds: the content type and any
 * x-amz-* header already on the request. Others (accept, accept-encoding) are left out so that a
 * proxy rewriting them cannot break the signature.
 */
function signable(name: string): boolean {
  const key = name.toLowerCase();
  return key === 'content-type' || key.startsWith('x-amz-');
}

/** Signs a prepared Converse request with the credential's keys, for its region, at `now`. */
export function signBedrockRequest(request: PreparedRequest, credential: Credential, now: Date): PreparedRequest {
  if (credential.kind !== 'aws') throw new TypeError(`AWS Bedrock takes an aws credential, not a ${credential.kind} credential`);
  const signature = signV4(
    {
      method: request.method,
      // The Host header undici sends for the pool's origin (the port only when not the default).
      host: new URL(request.origin).host,
      path: request.path,
      headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => signable(name))),
      body: request.body,
    },
    {
      service: BEDROCK_SIGNING_SERVICE,
      region: credential.region,
      credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken },
      now,
    },
  );
  // A header the signer sets replaces one of any case already there (never two Authorization headers).
  const replaced = new Set(Object.keys(signature.headers));
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !replaced.has(name.toLowerCase())));
  return { ...request, headers: { ...headers, ...signature.headers } };
}

/**
 * AWS Bedrock's Converse and ConverseStream APIs. `now` is the clock for the creation time of
 * answers (Converse reports none); tests pass a fixed one.
 */
export function createBedrockAdapter(now: () => number = () => Math.floor(Date.now() / 1000)): ProviderAdapter {
  return {
    protocol: 'bedrock',
    // No client speaks Bedrock's protocol to the gateway.
    nativeFormat: null,
    prepareChat: converseRequest,
    sign: signBedrockRequest,
    parseChatResponse: (body) => parseConverseResponse(body, now()),
    newStreamDecoder: (limits) => new BedrockStreamDecoder(limits, now),
    describeError: describeBedrockError,
  };
}

export const bedrockAdapter: ProviderAdapter = createBedrockAdapter();
