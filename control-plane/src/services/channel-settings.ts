import type { ChannelTimeouts } from '@tollgate/shared';
import { ValidationError } from '../errors.ts';
import { intInRange, requiredText } from './validate.ts';

/**
 * The per-channel settings a data plane obeys (timeouts, retries, model-name mapping, extra
 * headers, concurrency), validated once for create and update.
 */
export const MAX_TIMEOUT_MS = 3_600_000;
export const MAX_RETRIES = 5;
export const MAX_CONCURRENCY = 1_000_000;
const MAX_HEADERS = 32;
const MAX_MODEL_MAP_ENTRIES = 1000;

/**
 * Headers that carry credentials are refused: the credential is sealed, and a header holding one
 * would be stored and shown in plain text. Headers the gateway itself manages are refused too.
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'cookie']);
const MANAGED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'accept', 'accept-encoding', 'te', 'upgrade', 'keep-alive']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

export interface TimeoutsInput {
  connectMs?: number | null | undefined;
  firstByteMs?: number | null | undefined;
  idleMs?: number | null | undefined;
  totalMs?: number | null | undefined;
}

export function timeoutsInput(input: TimeoutsInput | null | undefined, current: ChannelTimeouts): ChannelTimeouts {
  const pick = (name: keyof ChannelTimeouts): number => {
    const value = input?.[name];
    return value === null || value === undefined ? current[name] : intInRange(value, `timeouts.${name}`, 1, MAX_TIMEOUT_MS);
  };
  const timeouts = { connectMs: pick('connectMs'), firstByteMs: pick('firstByteMs'), idleMs: pick('idleMs'), totalMs: pick('totalMs') };
  for (const name of ['connectMs', 'firstByteMs', 'idleMs'] as const) {
    if (timeouts[name] > timeouts.totalMs) throw new ValidationError(`timeouts.${name} must not exceed timeouts.totalMs`, `timeouts.${name}`);
  }
  return timeouts;
}

export function isCredentialHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return CREDENTIAL_HEADERS.has(lower) || lower.startsWith('x-amz-');
}

export function extraHeadersInput(list: readonly { name: string; value: string }[]): Record<string, string> {
  if (list.length > MAX_HEADERS) throw new ValidationError(`extraHeaders takes at most ${MAX_HEADERS} headers`, 'extraHeaders');
  const headers: Record<string, string> = {};
  for (const { name: raw, value } of list) {
    const name = raw.trim().toLowerCase();
    if (!TOKEN.test(name) || name.length > 100) throw new ValidationError('extraHeaders: a header name must be an HTTP token of at most 100 characters', 'extraHeaders.name');
    // The name is ours to repeat; the value may be what the operator meant to keep secret, so it is not.
    if (isCredentialHeader(name)) {
      throw new ValidationError(`extraHeaders: "${name}" carries a credential; put credentials in the channel's credential, which is stored sealed`, 'extraHeaders.name');
    }
    if (MANAGED_HEADERS.has(name)) throw new ValidationError(`extraHeaders: "${name}" is set by the gateway`, 'extraHeaders.name');
    if (name in headers) throw new ValidationError(`extraHeaders: "${name}" is given twice`, 'extraHeaders.name');
    if (value.length > 2000 || !HEADER_VALUE.test(value)) {
      throw new ValidationError('extraHeaders: a header value must be at most 2000 printable ASCII characters', 'extraHeaders.value');
    }
    headers[name] = value.trim();
  }
  return headers;
}

export function modelMapInput(list: readonly { upstreamModel: string; channelModel: string }[]): Record<string, string> {
  if (list.length > MAX_MODEL_MAP_ENTRIES) throw new ValidationError(`modelMap takes at most ${MAX_MODEL_MAP_ENTRIES} entries`, 'modelMap');
  const map: Record<string, string> = {};
  for (const entry of list) {
    const from = requiredText(entry.upstreamModel, 'modelMap.upstreamModel');
    if (from in map) throw new ValidationError(`modelMap maps "${from}" twice`, 'modelMap.upstreamModel');
    map[from] = requiredText(entry.channelModel, 'modelMap.channelModel');
  }
  return map;
}

export function retriesInput(value: number): number {
  return intInRange(value, 'retries', 0, MAX_RETRIES);
}

export function maxConcurrencyInput(value: number): number {
  return intInRange(value, 'maxConcurrency', 1, MAX_CONCURRENCY);
}
