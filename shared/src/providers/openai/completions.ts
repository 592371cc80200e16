import type { ChatChoice, ChatResponse } from '../../canonical/chat.ts';
import type { CompletionRequest } from '../../canonical/completions.ts';
import type { StreamEvent } from '../../canonical/events.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { readAnswerObject } from '../answer-body.ts';
import { arrayField, field, indexField, secondsField, stringField, type JsonRecord } from '../json.ts';
import { OpenAIChunkDecoder } from './chunk-decoder.ts';
import { readFinishReason } from './finish.ts';
import { MAX_CHOICES } from './response.ts';
import { openAIRequest } from './request.ts';
import { readOpenAIUsage } from './usage.ts';

/** The legacy `/completions` body: only fields the gateway knows; usage always asked for on streams. */
export function prepareOpenAICompletion(request: CompletionRequest, target: UpstreamTarget): PreparedRequest {
  const s = request.sampling;
  const body: Record<string, unknown> = { model: target.upstreamModel, prompt: request.prompt.length === 1 ? request.prompt[0] : request.prompt };
  if (request.maxOutputTokens !== null) body.max_tokens = request.maxOutputTokens;
  if (request.n !== 1) body.n = request.n;
  if (s.temperature !== null) body.temperature = s.temperature;
  if (s.topP !== null) body.top_p = s.topP;
  if (s.frequencyPenalty !== null) body.frequency_penalty = s.frequencyPenalty;
  if (s.presencePenalty !== null) body.presence_penalty = s.presencePenalty;
  if (s.seed !== null) body.seed = s.seed;
  if (s.stop.length > 0) body.stop = s.stop;
  if (request.user !== null) body.user = request.user;
  if (request.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return openAIRequest(target, '/completions', body, request.stream);
}

function choicesOf(payload: unknown): ChatChoice[] {
  const out: ChatChoice[] = [];
  for (const raw of arrayField(payload, 'choices').slice(0, MAX_CHOICES)) {
    out.push({
      index: indexField(raw, 'index', MAX_CHOICES) ?? out.length,
      text: stringField(raw, 'text') ?? '',
      reasoning: null,
      refusal: null,
      toolCalls: [],
      finishReason: readFinishReason(field(raw, 'finish_reason')) ?? 'stop',
    });
  }
  return out;
}

/** A `text_completion` as the canonical answer: a choice's `text` is its continuation. */
export function parseOpenAICompletion(body: Uint8Array): ChatResponse {
  const payload = readAnswerObject(body);
  return {
    id: stringField(payload, 'id') ?? '',
    model: stringField(payload, 'model') ?? '',
    created: secondsField(payload, 'created'),
    choices: choicesOf(payload),
    usage: readOpenAIUsage(field(payload, 'usage')),
  };
}

/** `text_completion` SSE chunks into canonical events: text per choice, finish, usage. */
export class OpenAICompletionStreamDecoder extends OpenAIChunkDecoder {
  private started = false;

  protected events(payload: JsonRecord): StreamEvent[] {
    const events: StreamEvent[] = [];
    const error = field(payload, 'error');
    if (error !== undefined && error !== null) {
      events.push({ type: 'error', message: stringField(error, 'message') ?? 'provider error', code: stringField(error, 'code') ?? stringField(error, 'type') });
      return events;
    }
    const id = stringField(payload, 'id');
    if (!this.started && id !== null) {
      this.started = true;
      events.push({ type: 'start', id, model: stringField(payload, 'model') ?? '', created: secondsField(payload, 'created') });
    }
    for (const choice of arrayField(payload, 'choices')) {
      const index = indexField(choice, 'index', MAX_CHOICES);
      if (index === null) continue;
      const text = stringField(choice, 'text');
      if (text) events.push({ type: 'text', choice: index, text });
      const finish = readFinishReason(field(choice, 'finish_reason'));
      if (finish !== null) events.push({ type: 'finish', choice: index, reason: finish });
    }
    const usage = readOpenAIUsage(field(payload, 'usage'));
    if (usage !== null) events.push({ type: 'usage', usage });
    return events;
  }
}
