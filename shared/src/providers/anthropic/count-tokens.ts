import type { ChatRequest } from '../../canonical/chat.ts';
import { tokenCount } from '../../canonical/usage.ts';
import { UpstreamFormatError, type PreparedRequest, type UpstreamTarget } from '../adapter.ts';
import { readAnswerJson } from '../answer-body.ts';
import { asRecord, field } from '../json.ts';
import { anthropicMessagesBody, anthropicRequest } from './request.ts';

/**
 * What `count_tokens` takes of a Messages body: what the model would read. The output cap,
 * sampling, stop sequences, metadata and `stream` change no input token, and the endpoint refuses them.
 */
const COUNTED = new Set(['model', 'system', 'messages', 'tools', 'tool_choice', 'thinking', 'output_config']);

/** POST {base}/messages/count_tokens: Anthropic's own count of the request's input, free of charge. */
export function prepareAnthropicCountTokens(request: ChatRequest, target: UpstreamTarget): PreparedRequest {
  const body = Object.fromEntries(Object.entries(anthropicMessagesBody({ ...request, stream: false }, target.upstreamModel)).filter(([name]) => COUNTED.has(name)));
  const prepared = anthropicRequest(target, body, false);
  return { ...prepared, path: `${target.basePath}/messages/count_tokens` };
}

/** `{"input_tokens": N}`; anything else is no answer. */
export function parseAnthropicCountTokens(body: Uint8Array): number {
  const payload = readAnswerJson(body);
  const count = asRecord(payload) === null ? null : tokenCount(field(payload, 'input_tokens'));
  if (count === null) throw new UpstreamFormatError('the provider answered without an input_tokens count');
  return count;
}
