import type { Credential } from '../credentials.ts';
import { GatewayError } from '../../errors.ts';
import type { UpstreamTarget } from '../adapter.ts';
import type { HeaderAuth } from '../openai/request.ts';

export type AzureCredential = Extract<Credential, { kind: 'azure' }>;

/** What an Azure call needs from its target: the key, the API version, and the deployment. */
export function azureCredential(target: UpstreamTarget): AzureCredential {
  if (target.credential.kind !== 'azure') throw new TypeError(`Azure OpenAI takes an azure credential, not a ${target.credential.kind} credential`);
  return target.credential;
}

export function azureAuth(credential: AzureCredential): HeaderAuth {
  return { name: 'api-key', value: credential.apiKey };
}

/** A deployment name that is one plain path segment: no `/`, `?`, `%` or `..` can move the call elsewhere. */
const DEPLOYMENT = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * The deployment a call goes to: the credential's when it names one, else the target's upstream
 * model (a channel serving several deployments maps each model to its deployment name). It ends up
 * in a URL path, so anything but letters, digits, `-`, `_` and `.` (and not `.` or `..` alone) is
 * refused. The refusal is a channel's misconfiguration, not the client's: it reads as no usable
 * channel, and the dispatcher tries the next one.
 */
export function azureDeployment(credential: AzureCredential, upstreamModel: string): string {
  const name = credential.deployment ?? upstreamModel;
  if (!DEPLOYMENT.test(name) || name === '.' || name === '..') {
    throw new GatewayError(
      'no_channel_available',
      'The Azure channel for this model names a deployment that is not a plain name (letters, digits, "-", "_" and "." only); an operator must correct it.',
    );
  }
  return name;
}

/**
 * The resource's base path. Azure's portal shows the endpoint both bare and as `.../openai` or
 * `.../openai/v1` (the v1 API's base URL); each of those is the same resource, so the suffix is
 * dropped and the adapter writes the API path itself. Any other path (an egress proxy's prefix) stays.
 */
export function azureBasePath(basePath: string): string {
  for (const suffix of ['/openai/v1', '/openai']) if (basePath.endsWith(suffix)) return basePath.slice(0, -suffix.length);
  return basePath;
}

/** API versions from this date on take `max_completion_tokens` and `stream_options` (2024-09-01-preview, 2024-10-21 GA). */
const MODERN_API = '2024-09-01';

export function isModernApiVersion(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= MODERN_API;
}
