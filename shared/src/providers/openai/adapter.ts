import type { ProviderAdapter } from '../adapter.ts';
import { describeJsonError } from '../sanitise.ts';
import { encodeWithSource } from '../source-body.ts';
import { openAIChatBody, openAIRequest } from './request.ts';
import { parseOpenAIChatResponse } from './response.ts';
import { OpenAIStreamDecoder } from './stream.ts';
import { OpenAICompletionStreamDecoder, parseOpenAICompletion, prepareOpenAICompletion } from './completions.ts';
import { parseOpenAIEmbeddings, prepareOpenAIEmbeddings } from './embeddings.ts';
import { openAIImagesBody, parseOpenAIImages } from './images.ts';

/**
 * OpenAI Chat Completions, and every provider that speaks it (Groq, Together, OpenRouter, ... are
 * configuration: a base URL and a key). OpenAI itself takes `max_completion_tokens` (its reasoning
 * models refuse `max_tokens`); the compatible providers know `max_tokens`.
 */
export const openAIAdapter: ProviderAdapter = {
  protocol: 'openai',
  nativeFormat: 'openai-chat',
  prepareChat(request, target) {
    const capField = target.provider === 'openai' ? 'max_completion_tokens' : 'max_tokens';
    const body = openAIChatBody(request, target.upstreamModel, { capField });
    return openAIRequest(target, '/chat/completions', encodeWithSource(body, 'messages', request.sourceMessages), request.stream);
  },
  parseChatResponse: parseOpenAIChatResponse,
  newStreamDecoder: (limits) => new OpenAIStreamDecoder(limits),
  describeError: describeJsonError,
  embeddings: { prepare: prepareOpenAIEmbeddings, parse: parseOpenAIEmbeddings },
  completions: { prepare: prepareOpenAICompletion, parse: parseOpenAICompletion, newStreamDecoder: (limits) => new OpenAICompletionStreamDecoder(limits) },
  images: {
    prepare: (request, target) => openAIRequest(target, '/images/generations', openAIImagesBody(request, target.upstreamModel), false),
    parse: parseOpenAIImages,
  },
};
