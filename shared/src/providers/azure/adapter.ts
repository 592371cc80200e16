import type { ProviderAdapter } from '../adapter.ts';
import { encodeWithSource } from '../source-body.ts';
import { openAIChatBody, openAIRequest } from '../openai/request.ts';
import { parseOpenAIChatResponse } from '../openai/response.ts';
import { openAIImagesBody, parseOpenAIImages } from '../openai/images.ts';
import { OpenAIStreamDecoder } from '../openai/stream.ts';
import { responsesBody } from '../openai-responses/request.ts';
import { parseResponsesResponse } from '../openai-responses/response.ts';
import { ResponsesStreamDecoder } from '../openai-responses/stream.ts';
import { describeJsonError } from '../sanitise.ts';
import { azureAuth, azureBasePath, azureCredential, azureDeployment, isModernApiVersion } from './target.ts';

/*
 * Azure OpenAI speaks OpenAI's wire formats; what differs is where a call goes and how it
 * authenticates, so both adapters are configuration over the OpenAI ones.
 *
 * Where: the target's base URL, not the credential's `endpoint`. Both name the resource, and the
 * control plane fills a channel's base URL from the endpoint unless the operator sets another
 * (an egress proxy, a private endpoint); the base URL is also what the dispatcher's connection pool
 * and the address checks use, so a call never goes anywhere the pool did not connect to. For BYOK
 * the base URL is the credential's endpoint (or the operator's override of it), by the same rule.
 */

/**
 * Azure OpenAI chat completions: POST {resource}/openai/deployments/{deployment}/chat/completions
 * ?api-version={credential's version}, the key in the `api-key` header. Versions before 2024-09-01
 * know neither `max_completion_tokens` nor `stream_options`: they get `max_tokens`, and their streams
 * carry no usage (metering estimates it). Azure opens streams with a content-filter chunk of empty
 * id, which the OpenAI decoder skips for the start.
 */
export const azureOpenAIAdapter: ProviderAdapter = {
  protocol: 'azure-openai',
  nativeFormat: 'openai-chat',
  prepareChat(request, target) {
    const credential = azureCredential(target);
    const deployment = azureDeployment(credential, target.upstreamModel);
    const modern = isModernApiVersion(credential.apiVersion);
    const body = openAIChatBody(request, deployment, { capField: modern ? 'max_completion_tokens' : 'max_tokens', streamUsage: modern });
    const path = `/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(credential.apiVersion)}`;
    const encoded = encodeWithSource(body, 'messages', request.sourceMessages);
    return openAIRequest({ ...target, basePath: azureBasePath(target.basePath) }, path, encoded, request.stream, azureAuth(credential));
  },
  parseChatResponse: parseOpenAIChatResponse,
  newStreamDecoder: (limits) => new OpenAIStreamDecoder(limits),
  describeError: describeJsonError,
  /** An image deployment: POST .../openai/deployments/{deployment}/images/generations?api-version=... */
  images: {
    prepare(request, target) {
      const credential = azureCredential(target);
      const deployment = azureDeployment(credential, target.upstreamModel);
      const path = `/openai/deployments/${deployment}/images/generations?api-version=${encodeURIComponent(credential.apiVersion)}`;
      return openAIRequest({ ...target, basePath: azureBasePath(target.basePath) }, path, openAIImagesBody(request, deployment), false, azureAuth(credential));
    },
    parse: parseOpenAIImages,
  },
};

/**
 * The Responses API on Azure: POST {resource}/openai/v1/responses with the `api-key` header and the
 * deployment as the body's `model`. The v1 API (generally available since August 2025) takes no
 * dated `api-version`, so the credential's version is not sent; Azure documents no deployment-path
 * form of the Responses API, and its dated preview form (`/openai/responses?api-version=...-preview`)
 * is the one being retired.
 */
export const azureResponsesAdapter: ProviderAdapter = {
  protocol: 'azure-responses',
  nativeFormat: 'openai-responses',
  prepareChat(request, target) {
    const credential = azureCredential(target);
    const body = responsesBody(request, azureDeployment(credential, target.upstreamModel));
    return openAIRequest({ ...target, basePath: azureBasePath(target.basePath) }, '/openai/v1/responses', body, request.stream, azureAuth(credential));
  },
  parseChatResponse: parseResponsesResponse,
  newStreamDecoder: (limits) => new ResponsesStreamDecoder(limits),
  describeError: describeJsonError,
};
