import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form), as the IAM user guide's "Create a signed AWS API request"
 * describes it and AWS's signing test suite pins it: a canonical request, its SHA-256 in the string
 * to sign, an HMAC-SHA256 chain from the secret down to a per-day, per-region, per-service key, and
 * the Authorization header. Written for services other than S3: the canonical path is normalised
 * and every segment URI-encoded once more, on top of the encoding it already has on the wire.
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | null;
}

export interface SigV4Request {
  method: string;
  /** The Host header as sent: host, plus `:port` when it is not the scheme's default. */
  host: string;
  /** The path exactly as it goes on the wire (already percent-encoded), with any `?query`. */
  path: string;
  /** Headers to sign (any case); host and the x-amz-* headers the signer adds are added to them. */
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array | null;
}

export interface SigV4Scope {
  service: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
  /** Also send (and sign) the payload hash as `x-amz-content-sha256`; S3 needs it, most services do not. */
  contentSha256Header?: boolean;
}

export interface SigV4Signature {
  /** The headers to add to the request: x-amz-date, x-amz-security-token and x-amz-content-sha256 when used, authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signedHeaders: string;
  signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `20150830T123600Z`: the x-amz-date form of an instant (UTC, no separators, no fraction). */
export function amzDate(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('cannot sign at an invalid date');
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * SigV4's URI encoding: every byte of the UTF-8 form except the unreserved characters
 * `A-Z a-z 0-9 - . _ ~` becomes `%XY` with upper-case hex. Unlike encodeURIComponent, it also
 * encodes `! ' ( ) *`, and a lone surrogate becomes U+FFFD's bytes instead of a throw.
 */
export function uriEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    if (UNRESERVED.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The canonical URI of a path as sent: dot segments resolved and empty segments dropped (RFC 3986
 * normalisation, as AWS does for every service but S3), a trailing slash kept, then each segment
 * URI-encoded. The path is not decoded first: `%3A` on the wire becomes `%253A` here, which is
 * what AWS computes on its side (a Bedrock model id `...-v1:0` is sent as `...-v1%3A0`).
 */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  const trailing = /\/\.{0,2}$/.test(path) ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Not valid percent-encoding: sign the characters as they are, encoded.
    return text;
  }
}

/**
 * The canonical query string: each name and value decoded from the wire form and URI-encoded again
 * (so it does not matter how the client encoded it), pairs sorted by name then value, a name
 * without `=` given an empty value.
 */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      return [uriEncode(decodeComponent(name)), uriEncode(decodeComponent(value))] as const;
    });
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** A header value in canonical form: trimmed, runs of spaces collapsed to one. */
function canonicalValue(value: string): string {
  return value.trim().replace(/ {2,}/g, ' ');
}

/**
 * Signs a request. Every header given is signed (choose them: a header a proxy may rewrite must not
 * be); host, x-amz-date and, with temporary credentials, x-amz-security-token always are. Pure: the
 * clock is an argument.
 */
export function signV4(request: SigV4Request, scope: SigV4Scope): SigV4Signature {
  const date = amzDate(scope.now);
  const day = date.slice(0, 8);
  const payloadHash = sha256Hex(request.body ?? '');
  const added: Record<string, string> = { 'x-amz-date': date };
  if (scope.credentials.sessionToken !== null) added['x-amz-security-token'] = scope.credentials.sessionToken;
  if (scope.contentSha256Header) added['x-amz-content-sha256'] = payloadHash;

  const signed = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    const key = name.toLowerCase();
    // The signer's own headers win over a caller's (a stale date or token must not be signed).
    if (key === 'authorization' || key === 'host' || key in added) continue;
    signed.set(key, canonicalValue(value));
  }
  signed.set('host', canonicalValue(request.host));
  for (const [name, value] of Object.entries(added)) signed.set(name, canonicalValue(value));
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');

  const q = request.path.indexOf('?');
  const path = q === -1 ? request.path : request.path.slice(0, q);
  const query = q === -1 ? '' : request.path.slice(q + 1);
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    names.map((n) => `${n}:${signed.get(n)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');

  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, date, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(deriveSigningKey(scope.credentials.secretAccessKey, day, scope.region, scope.service), stringToSign).toString('hex');
  return {
    headers: {
      ...added,
      authorization: `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    canonicalRequest,
    stringToSign,
    signedHeaders,
    signature,
  };
}
