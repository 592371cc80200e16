import type { ChatResponse, ToolCall } from '../../canonical/chat.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { readAnswerJson } from '../answer-body.ts';
import { arrayField, asRecord, field, stringField } from '../json.ts';
import { singleChoice } from '../single-choice.ts';
import { readStopReason, readStopSequence } from './finish.ts';
import { readBedrockUsage } from './usage.ts';

/** Most tool calls read from one answer; a provider sending more is not believed. */
export const MAX_TOOL_CALLS = 128;

/**
 * A Converse answer (`{output: {message: {role, content: [...]}}, stopReason, usage, metrics}`)
 * into the canonical one: text blocks joined, reasoning blocks joined, tool uses as calls with
 * their input written back as JSON text. Converse names neither the answer nor the model (the
 * request id is only a response header), so `id` and `model` are empty for the codec to fill, and
 * `created` is the gateway's clock.
 */
export function parseConverseResponse(body: Uint8Array, created: number): ChatResponse {
  const payload = readAnswerJson(body);
  const message = field(field(payload, 'output'), 'message');
  if (!asRecord(message)) throw new UpstreamFormatError('the provider answered with JSON that is not a Converse answer');
  const text: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of arrayField(message, 'content')) {
    const t = stringField(block, 'text');
    if (t !== null) text.push(t);
    const thought = stringField(field(field(block, 'reasoningContent'), 'reasoningText'), 'text');
    if (thought !== null) reasoning.push(thought);
    const use = field(block, 'toolUse');
    const name = stringField(use, 'name');
    if (name !== null && toolCalls.length < MAX_TOOL_CALLS) {
      const input = field(use, 'input');
      toolCalls.push({ id: stringField(use, 'toolUseId') ?? `tooluse_${toolCalls.length}`, name, arguments: input === undefined ? '{}' : JSON.stringify(input) });
    }
  }
  const stopSequence = readStopSequence(field(payload, 'stopReason'), field(payload, 'additionalModelResponseFields'));
  return {
    id: '',
    model: '',
    created,
    choices: [singleChoice({ texts: text, thoughts: reasoning, toolCalls, finishReason: readStopReason(field(payload, 'stopReason')) ?? 'stop', stopSequence })],
    usage: readBedrockUsage(field(payload, 'usage')),
  };
}
