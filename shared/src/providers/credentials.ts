import { providerInfo, type ProviderId } from './catalog.ts';

/**
 * A provider credential once opened: what an adapter needs to authenticate a call. Stored only
 * sealed (crypto/envelope.ts); validated for its provider before it is sealed.
 */
export type Credential =
  | { kind: 'api_key'; apiKey: string }
  | { kind: 'aws'; accessKeyId: string; secretAccessKey: string; region: string; sessionToken: string | null }
  | { kind: 'azure'; endpoint: string; apiKey: string; apiVersion: string; deployment: string | null };

export class CredentialFormatError extends Error {
  override name = 'CredentialFormatError';
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

const PRINTABLE_TOKEN = /^[\x21-\x7e]+$/;
const AWS_ACCESS_KEY = /^(AKIA|ASIA)[A-Z0-9]{16}$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const AZURE_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const MAX_SECRET_CHARS = 4096;

function apiKeyOf(text: unknown, field: string, prefix: string | null, label: string): string {
  if (typeof text !== 'string') throw new CredentialFormatError(`${field} must be a string`, field);
  const key = text.trim();
  if (key.length < 8 || key.length > MAX_SECRET_CHARS || !PRINTABLE_TOKEN.test(key)) {
    throw new CredentialFormatError(`${field} must be 8 to ${MAX_SECRET_CHARS} printable characters without spaces`, field);
  }
  if (prefix !== null && !key.startsWith(prefix)) throw new CredentialFormatError(`a ${label} key starts with "${prefix}"`, field);
  return key;
}

function objectOf(text: string, label: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CredentialFormatError(`the ${label} credential must be a JSON object`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CredentialFormatError(`the ${label} credential must be a JSON object`);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > MAX_SECRET_CHARS) throw new CredentialFormatError(`${field} must be a string`, field);
  return value.trim();
}

/**
 * Parses and validates the credential text a user submitted for a provider: a plain API key, or
 * for AWS Bedrock and Azure the JSON object their console shows. Error messages never repeat the
 * submitted text.
 */
export function parseCredential(provider: ProviderId, text: string): Credential {
  const info = providerInfo(provider);
  switch (info.credential) {
    case 'api_key':
      return { kind: 'api_key', apiKey: apiKeyOf(text, 'apiKey', info.keyPrefix, info.label) };
    case 'aws': {
      const o = objectOf(text, info.label);
      const accessKeyId = typeof o.accessKeyId === 'string' ? o.accessKeyId.trim() : '';
      if (!AWS_ACCESS_KEY.test(accessKeyId)) throw new CredentialFormatError('accessKeyId must be an AWS access key id (AKIA... or ASIA..., 20 characters)', 'accessKeyId');
      const secretAccessKey = typeof o.secretAccessKey === 'string' ? o.secretAccessKey.trim() : '';
      if (secretAccessKey.length !== 40 || !PRINTABLE_TOKEN.test(secretAccessKey)) throw new CredentialFormatError('secretAccessKey must be 40 characters', 'secretAccessKey');
      const region = typeof o.region === 'string' ? o.region.trim() : '';
      if (!AWS_REGION.test(region)) throw new CredentialFormatError('region must be an AWS region such as us-east-1', 'region');
      const sessionToken = optionalString(o.sessionToken, 'sessionToken');
      if (accessKeyId.startsWith('ASIA') && sessionToken === null) throw new CredentialFormatError('temporary (ASIA...) keys need a sessionToken', 'sessionToken');
      return { kind: 'aws', accessKeyId, secretAccessKey, region, sessionToken };
    }
    case 'azure': {
      const o = objectOf(text, info.label);
      const endpoint = azureEndpoint(o.endpoint);
      const apiKey = apiKeyOf(o.apiKey, 'apiKey', null, info.label);
      const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion.trim() : '';
      if (!AZURE_API_VERSION.test(apiVersion)) throw new CredentialFormatError('apiVersion must look like 2024-10-21 or 2025-04-01-preview', 'apiVersion');
      return { kind: 'azure', endpoint, apiKey, apiVersion, deployment: optionalString(o.deployment, 'deployment') };
    }
  }
}

function azureEndpoint(value: unknown): string {
  if (typeof value !== 'string') throw new CredentialFormatError('endpoint must be the https URL of the Azure resource', 'endpoint');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new CredentialFormatError('endpoint must be the https URL of the Azure resource', 'endpoint');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new CredentialFormatError('endpoint must be an https URL without credentials or query', 'endpoint');
  }
  return url.toString().replace(/\/+$/, '');
}

/** The characters of a credential that may be shown: the last 4 of its secret part. */
export function credentialLast4(credential: Credential): string {
  switch (credential.kind) {
    case 'api_key':
    case 'azure':
      return credential.apiKey.slice(-4);
    case 'aws':
      return credential.secretAccessKey.slice(-4);
  }
}

export function encodeCredential(credential: Credential): string {
  return JSON.stringify(credential);
}

/** Reads a credential opened from its sealed form; a shape we do not know is refused, not guessed. */
export function decodeCredential(text: string): Credential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON.parse's own error: its message quotes the text, which here is a secret.
    throw new CredentialFormatError('unsupported credential record');
  }
  const value = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Credential> & Record<string, unknown>;
  if (value.kind === 'api_key' && typeof value.apiKey === 'string') return { kind: 'api_key', apiKey: value.apiKey };
  if (value.kind === 'aws' && typeof value.accessKeyId === 'string' && typeof value.secretAccessKey === 'string' && typeof value.region === 'string') {
    return { kind: 'aws', accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey, region: value.region, sessionToken: typeof value.sessionToken === 'string' ? value.sessionToken : null };
  }
  if (value.kind === 'azure' && typeof value.endpoint === 'string' && typeof value.apiKey === 'string' && typeof value.apiVersion === 'string') {
    return { kind: 'azure', endpoint: value.endpoint, apiKey: value.apiKey, apiVersion: value.apiVersion, deployment: typeof value.deployment === 'string' ? value.deployment : null };
  }
  throw new CredentialFormatError('unsupported credential record');
}
