import type { ChatChoice, ChatResponse, ToolCall } from '../../canonical/chat.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, asRecord, field, indexField, stringField } from '../json.ts';
import { readFinishReason, withCalls } from './finish.ts';
import { callId, MAX_CANDIDATES, MAX_TOOL_CALLS, readPart } from './parts.ts';
import { readGeminiUsage } from './usage.ts';

/**
 * A `GenerateContentResponse` into the canonical answer. Each candidate is a choice: its text
 * parts joined into the text, its thought parts into the reasoning, its function calls into tool
 * calls (ids: Gemini's own when it sends one, else derived, see `callId`). A prompt Gemini refused
 * (`promptFeedback.blockReason`, no candidates) is one empty choice stopped by the content filter.
 */
export function parseGeminiResponse(body: Uint8Array): ChatResponse {
  const payload = readAnswerObject(body);
  if (asRecord(field(payload, 'error'))) throw new UpstreamFormatError('the provider answered with an error object and a success status');
  const responseId = stringField(payload, 'responseId');
  const choices: ChatChoice[] = [];
  arrayField(payload, 'candidates').forEach((candidate, position) => {
    const index = field(candidate, 'index') === undefined ? position : indexField(candidate, 'index', MAX_CANDIDATES);
    if (index === null || index >= MAX_CANDIDATES) return;
    choices.push(choice(candidate, index, responseId));
  });
  if (choices.length === 0 && stringField(field(payload, 'promptFeedback'), 'blockReason')) {
    choices.push({ index: 0, text: null, reasoning: null, refusal: null, toolCalls: [], finishReason: 'content_filter' });
  }
  return {
    id: responseId ?? '',
    model: stringField(payload, 'modelVersion') ?? '',
    created: createdOf(payload),
    choices,
    usage: readGeminiUsage(field(payload, 'usageMetadata')),
  };
}

function choice(candidate: unknown, index: number, responseId: string | null): ChatChoice {
  const text: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const raw of arrayField(field(candidate, 'content'), 'parts')) {
    const part = readPart(raw);
    if (part === null) continue;
    if (part.type === 'text') (part.thought ? reasoning : text).push(part.text);
    else if (toolCalls.length < MAX_TOOL_CALLS) {
      toolCalls.push({
        id: part.id ?? callId(responseId, index, toolCalls.length),
        name: part.name,
        arguments: part.arguments,
        ...(part.signature !== null ? { signature: part.signature } : {}),
      });
    }
  }
  return {
    index,
    text: text.length > 0 ? text.join('') : null,
    reasoning: reasoning.length > 0 ? reasoning.join('') : null,
    refusal: null,
    toolCalls,
    finishReason: withCalls(readFinishReason(field(candidate, 'finishReason')) ?? 'stop', toolCalls.length),
  };
}

/** Unix seconds: Gemini's `createTime` where it sends one (Vertex does), else now. */
export function createdOf(payload: unknown): number {
  const time = stringField(payload, 'createTime');
  const parsed = time === null ? NaN : Date.parse(time);
  return Math.max(0, Math.floor((Number.isFinite(parsed) ? parsed : Date.now()) / 1000));
}
