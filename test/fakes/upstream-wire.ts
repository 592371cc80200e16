import type { AnswerBehavior, Usage } from './upstream-behaviors.ts';

/**
 * The OpenAI Chat Completions wire format the fake upstream answers in: a whole `chat.completion`,
 * or the `chat.completion.chunk` events of a stream (with the usage chunk when the client asked
 * for it, and `[DONE]`), from what a test asked it to answer.
 */

/** Exactly `parts` pieces (some empty if the text is shorter), so chunk counts are predictable. */
function split(text: string, parts: number): string[] {
  const count = Math.max(1, parts);
  return Array.from({ length: count }, (_, i) => text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)));
}

function usageJson(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    ...(usage.cachedTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: usage.cachedTokens, audio_tokens: 0 } }),
    ...(usage.reasoningTokens === undefined
      ? {}
      : { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } }),
  };
}

export interface Ids {
  id: string;
  created: number;
  model: string;
}

/** What an answer says, with the fake's defaults filled in: the same for a whole answer and a stream. */
function answerOf(b: AnswerBehavior): { toolCalls: NonNullable<AnswerBehavior['toolCalls']>; reply: string; usage: Usage | null; finishReason: string } {
  const toolCalls = b.toolCalls ?? [];
  return {
    toolCalls,
    reply: b.reply ?? 'Hello!',
    usage: b.usage === undefined ? { promptTokens: 9, completionTokens: 3 } : b.usage,
    finishReason: toolCalls.length > 0 ? 'tool_calls' : (b.finishReason ?? 'stop'),
  };
}

export function completion(b: AnswerBehavior, ids: Ids): string {
  const { toolCalls, reply, usage, finishReason } = answerOf(b);
  const message = {
    role: 'assistant',
    content: toolCalls.length > 0 && reply === '' ? null : reply,
    refusal: null,
    ...(toolCalls.length > 0
      ? { tool_calls: toolCalls.map((call, i) => ({ id: call.id ?? `call_fake${i}`, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
      : {}),
  };
  return JSON.stringify({
    id: ids.id, object: 'chat.completion', created: ids.created, model: ids.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    ...(usage ? { usage: usageJson(usage) } : {}),
    system_fingerprint: 'fp_fake',
  });
}

export function streamEvents(b: AnswerBehavior, ids: Ids, includeUsage: boolean): string[] {
  const { toolCalls, reply, usage, finishReason } = answerOf(b);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): string =>
    `data: ${JSON.stringify({
      id: ids.id, object: 'chat.completion.chunk', created: ids.created, model: ids.model, system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    })}\n\n`;
  const events = [chunk({ role: 'assistant', content: toolCalls.length > 0 && reply === '' ? null : '', refusal: null }, null)];
  if (reply !== '') for (const piece of split(reply, b.chunks ?? 3)) events.push(chunk({ content: piece }, null));
  toolCalls.forEach((call, index) => {
    const id = call.id ?? `call_fake${index}`;
    events.push(chunk({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
    for (const piece of split(call.arguments, call.argumentChunks ?? 3)) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
  });
  events.push(chunk({}, finishReason));
  if (includeUsage && usage) {
    const usageChunk = { id: ids.id, object: 'chat.completion.chunk', created: ids.created, model: ids.model, system_fingerprint: 'fp_fake', choices: [], usage: usageJson(usage) };
    events.push(`data: ${JSON.stringify(usageChunk)}\n\n`);
  }
  events.push('data: [DONE]\n\n');
  return events;
}
