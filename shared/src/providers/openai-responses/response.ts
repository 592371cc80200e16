import type { ChatChoice, ChatResponse, ToolCall } from '../../canonical/chat.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, field, secondsField, stringField } from '../json.ts';
import { sanitiseProviderText } from '../sanitise.ts';
import { readResponseFinish } from './finish.ts';
import { readResponsesUsage } from './usage.ts';

/** Most output items, parts and tool calls read from one answer; a provider sending more is not believed. */
export const MAX_OUTPUT_ITEMS = 1024;
export const MAX_PARTS = 1024;
export const MAX_TOOL_CALLS = 128;

/** The texts of one kind of part in a list, joined; null when there are none. */
function joined(parts: unknown[], type: string, name: string, separator: string): string | null {
  const texts: string[] = [];
  for (const part of parts.slice(0, MAX_PARTS)) {
    const text = field(part, 'type') === type ? stringField(part, name) : null;
    if (text !== null) texts.push(text);
  }
  return texts.length > 0 ? texts.join(separator) : null;
}

function append(to: string | null, text: string | null, separator = ''): string | null {
  return text === null ? to : to === null ? text : `${to}${separator}${text}`;
}

/**
 * A response's `output` items as one canonical choice (the Responses API has no `n`): the text of
 * every `output_text` part in order (as OpenAI's SDKs build `output_text`), refusals, reasoning
 * summaries (else raw reasoning text), and each `function_call` as a tool call whose id is its
 * `call_id`, the id a `function_call_output` answers. Items of other kinds (built-in tools, which
 * the gateway never asks for) are skipped.
 */
export function responseChoice(output: unknown[], status: unknown, incompleteReason: unknown): ChatChoice {
  let text: string | null = null;
  let refusal: string | null = null;
  let reasoning: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const item of output.slice(0, MAX_OUTPUT_ITEMS)) {
    switch (field(item, 'type')) {
      case 'message': {
        const content = arrayField(item, 'content');
        text = append(text, joined(content, 'output_text', 'text', ''));
        refusal = append(refusal, joined(content, 'refusal', 'refusal', ''));
        break;
      }
      case 'reasoning':
        reasoning = append(reasoning, joined(arrayField(item, 'summary'), 'summary_text', 'text', '\n\n') ?? joined(arrayField(item, 'content'), 'reasoning_text', 'text', ''), '\n\n');
        break;
      case 'function_call': {
        const name = stringField(item, 'name');
        if (name === null || toolCalls.length >= MAX_TOOL_CALLS) break;
        toolCalls.push({ id: stringField(item, 'call_id') || stringField(item, 'id') || `call_${toolCalls.length}`, name, arguments: stringField(item, 'arguments') ?? '' });
        break;
      }
      default:
        break;
    }
  }
  return { index: 0, text, reasoning, refusal, toolCalls, finishReason: readResponseFinish(status, incompleteReason, toolCalls.length > 0) };
}

/** Unix seconds from a response's `created_at`, which OpenAI sends as an integer and Azure has sent as a float. */
export function createdAt(response: unknown): number {
  return secondsField(response, 'created_at');
}

/**
 * A `response` object into the canonical answer. An object without an `output` list answers
 * nothing (no choices). A response the provider reports as failed is not an answer: it throws, with
 * the provider's code and message sanitised, for operators only.
 */
export function parseResponsesResponse(body: Uint8Array): ChatResponse {
  const payload = readAnswerObject(body);
  const status = field(payload, 'status');
  if (status === 'failed') {
    const error = field(payload, 'error');
    throw new UpstreamFormatError(sanitiseProviderText(`the provider reported the response failed: ${stringField(error, 'code') ?? ''} ${stringField(error, 'message') ?? ''}`));
  }
  const output = field(payload, 'output');
  return {
    id: stringField(payload, 'id') ?? '',
    model: stringField(payload, 'model') ?? '',
    created: createdAt(payload),
    choices: Array.isArray(output) ? [responseChoice(output, status, field(field(payload, 'incomplete_details'), 'reason'))] : [],
    usage: readResponsesUsage(field(payload, 'usage')),
  };
}
