import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import { jsonReply, split, startProtocolServer, type ProtocolServer, type Reply, type SeenRequest } from './protocol-server.ts';

/**
 * A fake AWS Bedrock runtime, speaking the wire format of the Bedrock API reference:
 * `POST /model/{modelId}/converse` answers a Converse response (JSON); `/converse-stream` answers
 * a ConverseStream in AWS's binary event-stream framing (`application/vnd.amazon.eventstream`):
 * messageStart, per content block its contentBlockStart (tool uses), contentBlockDeltas (text in
 * two pieces, a tool use's input JSON in three, reasoning text then its signature) and
 * contentBlockStop, then messageStop and metadata (usage, metrics). Payloads carry the `p` padding
 * field Bedrock adds. The framing and the signature check are written here from the AWS
 * documents, independently of the gateway's decoder and signer, so a shared mistake cannot hide.
 *
 * Every request must carry a valid SigV4 signature by the fake's own key pair, recomputed here:
 * a wrong key id gets 403 UnrecognizedClientException, a wrong signature (or a missing or
 * malformed Authorization) 403 InvalidSignatureException, with the error type in the
 * `x-amzn-ErrorType` header and `{"message": ...}` as the body, as AWS's REST-JSON services answer.
 */
export type ConverseBlock =
  | { text: string }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | { reasoningContent: { reasoningText: { text: string; signature: string } } };

export interface BedrockUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface BedrockAnswer {
  content: ConverseBlock[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'guardrail_intervened' | 'content_filtered';
  usage: BedrockUsage;
  /**
   * The matched sequence, as an Anthropic model reports it: returned in `additionalModelResponseFields`
   * only when the request asked for `/stop_sequence` in `additionalModelResponseFieldPaths`.
   */
  stopSequence?: string;
}

/** An error answer: before any stream (HTTP status + x-amzn-ErrorType), or as an exception message inside one. */
export type BedrockFailure = { error: string; status: number; message: string } | { exception: string; message: string };

export type BedrockScript = BedrockAnswer | BedrockFailure;

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface SignatureCheck {
  ok: boolean;
  /** Why it failed; null when it passed. */
  reason: string | null;
}

export interface BedrockFake extends ProtocolServer<BedrockScript> {
  /** Base URL for a channel. */
  url: string;
  /** The signature check of each request, in order. */
  checks: readonly SignatureCheck[];
}

// ---------------------------------------------------------------------------------------------
// Event-stream framing (AWS SDK developer guides, "Event stream encoding"): every integer
// big-endian; prelude = total length u32, headers length u32, CRC32 of those 8 bytes; then the
// headers (name length u8, name, value type u8, value), the payload, and the CRC32 of all before.

const STRING_TYPE = 7;

export function eventStreamMessage(headers: ReadonlyArray<readonly [string, string]>, payload: string): Buffer {
  const headerBytes = Buffer.concat(
    headers.map(([name, value]) => {
      const n = Buffer.from(name, 'utf8');
      const v = Buffer.from(value, 'utf8');
      const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
      out.writeUInt8(n.length, 0);
      n.copy(out, 1);
      out.writeUInt8(STRING_TYPE, 1 + n.length);
      out.writeUInt16BE(v.length, 2 + n.length);
      v.copy(out, 4 + n.length);
      return out;
    }),
  );
  const body = Buffer.from(payload, 'utf8');
  const total = 12 + headerBytes.length + body.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  body.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

let padding = 0;
/** Bedrock's padding field: letters of varying length, against length analysis. */
function pad(): string {
  padding = (padding + 5) % 26;
  return 'abcdefghijklmnopqrstuvwxyz'.slice(0, padding + 1);
}

function event(type: string, payload: Record<string, unknown>): Buffer {
  return eventStreamMessage(
    [
      [':event-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'event'],
    ],
    JSON.stringify({ ...payload, p: pad() }),
  );
}

function exception(type: string, message: string): Buffer {
  return eventStreamMessage(
    [
      [':exception-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'exception'],
    ],
    JSON.stringify({ message }),
  );
}

function usageJson(u: BedrockUsage): Record<string, number> {
  return { ...u, totalTokens: u.inputTokens + u.outputTokens + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0) };
}

function blockEvents(block: ConverseBlock, contentBlockIndex: number): Buffer[] {
  const delta = (d: Record<string, unknown>): Buffer => event('contentBlockDelta', { contentBlockIndex, delta: d });
  if ('text' in block) return split(block.text, 2).map((text) => delta({ text }));
  if ('toolUse' in block) {
    const { toolUseId, name, input } = block.toolUse;
    return [event('contentBlockStart', { contentBlockIndex, start: { toolUse: { toolUseId, name } } }), ...split(JSON.stringify(input), 3).map((piece) => delta({ toolUse: { input: piece } }))];
  }
  const { text, signature } = block.reasoningContent.reasoningText;
  return [...split(text, 2).map((t) => delta({ reasoningContent: { text: t } })), delta({ reasoningContent: { signature } })];
}

const EVENT_STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream' };

/** The model's own fields the request asked for (only `/stop_sequence` is known here). */
function additionalFields(answer: BedrockAnswer, body: unknown): { additionalModelResponseFields?: Record<string, unknown> } {
  const paths = typeof body === 'object' && body !== null ? (body as { additionalModelResponseFieldPaths?: unknown }).additionalModelResponseFieldPaths : undefined;
  if (answer.stopSequence === undefined || !Array.isArray(paths) || !paths.includes('/stop_sequence')) return {};
  return { additionalModelResponseFields: { stop_sequence: answer.stopSequence } };
}

function stream(script: BedrockAnswer | Extract<BedrockFailure, { exception: string }>, body: unknown): Reply {
  const headers = { ...EVENT_STREAM_HEADERS, 'x-amzn-requestid': randomUUID() };
  if ('exception' in script) return { status: 200, headers, pieces: [event('messageStart', { role: 'assistant' }), exception(script.exception, script.message)] };
  const pieces = [
    event('messageStart', { role: 'assistant' }),
    ...script.content.flatMap((block, i) => [...blockEvents(block, i), event('contentBlockStop', { contentBlockIndex: i })]),
    event('messageStop', { stopReason: script.stopReason, ...additionalFields(script, body) }),
    event('metadata', { usage: usageJson(script.usage), metrics: { latencyMs: 412 } }),
  ];
  return { status: 200, headers, pieces };
}

function failure(status: number, type: string, message: string): Reply {
  return jsonReply(status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/`, 'x-amzn-requestid': randomUUID() });
}

// ---------------------------------------------------------------------------------------------
// SigV4 (IAM user guide, "Create a signed AWS API request"), as the service side checks it.

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding: encodeURIComponent leaves `! ' ( ) *` alone, SigV4 does not. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Services other than S3 encode each segment of the path as sent once more (`%3A` → `%253A`). */
function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
}

function canonicalQueryString(query: URLSearchParams): string {
  return [...query.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ');
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** AWS refuses a request signed more than 5 minutes away from its own clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;

export function checkSignature(request: SeenRequest, keys: AwsKeys, service = 'bedrock', now = Date.now()): SignatureCheck & { errorType?: string } {
  const fail = (reason: string, errorType = 'InvalidSignatureException') => ({ ok: false, reason, errorType });
  const m = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (m === null) return fail('missing or malformed Authorization', 'IncompleteSignatureException');
  const [keyId, day, region, signedService, signedHeaders, signature] = m.slice(1) as [string, string, string, string, string, string];
  if (keyId !== keys.accessKeyId) return fail(`unknown access key ${keyId}`, 'UnrecognizedClientException');
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate === null || !/^\d{8}T\d{6}Z$/.test(amzDate)) return fail('missing or malformed x-amz-date');
  if (amzDate.slice(0, 8) !== day) return fail('credential scope date differs from x-amz-date');
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) return fail('signature expired or from the future');
  if (region !== keys.region || signedService !== service) return fail(`scope ${region}/${signedService} is not ${keys.region}/${service}`);
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return fail('host and x-amz-date must be signed');
  if ([...names].sort().join(';') !== signedHeaders) return fail('SignedHeaders is not sorted');
  const canonicalHeaders: string[] = [];
  for (const name of names) {
    const value = headerValue(request.headers, name);
    if (value === null) return fail(`signed header ${name} is missing`);
    canonicalHeaders.push(`${name}:${value}\n`);
  }
  const canonicalRequest = [request.method, canonicalPath(request.path), canonicalQueryString(request.query), canonicalHeaders.join(''), signedHeaders, sha256(request.raw)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, day), region), service), 'aws4_request');
  const expected = hmac(key, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return fail('signature mismatch');
  return { ok: true, reason: null };
}

const MESSAGES: Record<string, string> = {
  IncompleteSignatureException: 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.',
  UnrecognizedClientException: 'The security token included in the request is invalid.',
  InvalidSignatureException:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

export async function startBedrock(keys: AwsKeys): Promise<BedrockFake> {
  const checks: SignatureCheck[] = [];
  const server = await startProtocolServer<BedrockScript>('bedrock', (request, next) => {
    const check = checkSignature(request, keys);
    checks.push({ ok: check.ok, reason: check.reason });
    if (!check.ok) return failure(403, check.errorType!, MESSAGES[check.errorType!]!);
    const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(request.path);
    if (request.method !== 'POST' || match === null) return failure(404, 'UnknownOperationException', 'Not found');
    const script = next();
    if ('error' in script) return failure(script.status, script.error, script.message);
    if (match[2] === 'converse-stream') return stream(script, request.body);
    if ('exception' in script) return failure(500, script.exception, script.message);
    return jsonReply(
      200,
      {
        output: { message: { role: 'assistant', content: script.content } },
        stopReason: script.stopReason,
        usage: usageJson(script.usage),
        metrics: { latencyMs: 412 },
        ...additionalFields(script, request.body),
      },
      { 'x-amzn-requestid': randomUUID() },
    );
  });
  return { ...server, url: server.origin, checks };
}
