import type { ChatResponse, ReasoningBlock, ToolCall } from '../../canonical/chat.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, asRecord, field, stringField } from '../json.ts';
import { singleChoice } from '../single-choice.ts';
import { readStopReason, readStopSequence } from './finish.ts';
import { readAnthropicUsage } from './usage.ts';

/** Most content blocks and tool calls read from one answer; a provider sending more is not believed. */
export const MAX_CONTENT_BLOCKS = 1024;
export const MAX_TOOL_CALLS = 128;

/** A tool call's input object as the canonical JSON text; an input that is not an object reads as `{}`. */
export function toolArguments(input: unknown): string {
  const record = asRecord(input);
  return record === null ? '{}' : JSON.stringify(record);
}

/**
 * A Messages `message` object into the canonical answer: one choice, its text blocks joined, its
 * thinking kept both as text and as signed blocks, its tool_use blocks as tool calls with their
 * ids unchanged. Blocks of server tools and kinds added later are skipped.
 */
export function parseAnthropicMessage(body: Uint8Array): ChatResponse {
  const payload = readAnswerObject(body);
  if (field(payload, 'type') === 'error') throw new UpstreamFormatError('the provider answered 200 with an error object');
  const texts: string[] = [];
  const thoughts: string[] = [];
  const reasoningBlocks: ReasoningBlock[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of arrayField(payload, 'content').slice(0, MAX_CONTENT_BLOCKS)) {
    switch (field(block, 'type')) {
      case 'text': {
        const text = stringField(block, 'text');
        if (text !== null) texts.push(text);
        break;
      }
      case 'thinking': {
        const text = stringField(block, 'thinking') ?? '';
        thoughts.push(text);
        reasoningBlocks.push({ type: 'thinking', text, signature: stringField(block, 'signature') || null });
        break;
      }
      case 'redacted_thinking': {
        const data = stringField(block, 'data');
        if (data) reasoningBlocks.push({ type: 'redacted', data });
        break;
      }
      case 'tool_use': {
        const name = stringField(block, 'name');
        if (name === null || toolCalls.length >= MAX_TOOL_CALLS) break;
        toolCalls.push({ id: stringField(block, 'id') ?? `toolu_${toolCalls.length}`, name, arguments: toolArguments(field(block, 'input')) });
        break;
      }
      default:
        break;
    }
  }
  const stopSequence = readStopSequence(field(payload, 'stop_reason'), field(payload, 'stop_sequence'));
  return {
    id: stringField(payload, 'id') ?? '',
    model: stringField(payload, 'model') ?? '',
    // Anthropic's message carries no creation time.
    created: Math.floor(Date.now() / 1000),
    choices: [
      {
        ...singleChoice({ texts, thoughts, toolCalls, finishReason: readStopReason(field(payload, 'stop_reason')) ?? 'stop', stopSequence }),
        ...(reasoningBlocks.length > 0 ? { reasoningBlocks } : {}),
      },
    ],
    usage: readAnthropicUsage(field(payload, 'usage')),
  };
}
