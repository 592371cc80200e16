import type { ChatChoice, ChatResponse, ToolCall } from '../../canonical/chat.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, field, indexField, secondsField, stringField } from '../json.ts';
import { readFinishReason } from './finish.ts';
import { readOpenAIUsage } from './usage.ts';

/** Most choices and tool calls read from one answer; a provider sending more is not believed. */
export const MAX_CHOICES = 128;
export const MAX_TOOL_CALLS = 128;

/** A `chat.completion` object into the canonical answer. */
export function parseOpenAIChatResponse(body: Uint8Array): ChatResponse {
  const payload = readAnswerObject(body);
  const choices: ChatChoice[] = [];
  for (const raw of arrayField(payload, 'choices').slice(0, MAX_CHOICES)) {
    const message = field(raw, 'message');
    const toolCalls: ToolCall[] = [];
    for (const call of arrayField(message, 'tool_calls').slice(0, MAX_TOOL_CALLS)) {
      const fn = field(call, 'function');
      const name = stringField(fn, 'name');
      if (name === null) continue;
      toolCalls.push({ id: stringField(call, 'id') ?? `call_${toolCalls.length}`, name, arguments: stringField(fn, 'arguments') ?? '' });
    }
    choices.push({
      index: indexField(raw, 'index', MAX_CHOICES) ?? choices.length,
      text: stringField(message, 'content'),
      reasoning: stringField(message, 'reasoning_content') ?? stringField(message, 'reasoning'),
      refusal: stringField(message, 'refusal'),
      toolCalls,
      finishReason: readFinishReason(field(raw, 'finish_reason')) ?? 'stop',
    });
  }
  return {
    id: stringField(payload, 'id') ?? '',
    model: stringField(payload, 'model') ?? '',
    created: secondsField(payload, 'created'),
    choices,
    usage: readOpenAIUsage(field(payload, 'usage')),
  };
}
