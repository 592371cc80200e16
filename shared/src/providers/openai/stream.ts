import type { StreamEvent } from '../../canonical/events.ts';
import { arrayField, field, indexField, secondsField, stringField, type JsonRecord } from '../json.ts';
import { OpenAIChunkDecoder } from './chunk-decoder.ts';
import { readFinishReason } from './finish.ts';
import { MAX_CHOICES, MAX_TOOL_CALLS } from './response.ts';
import { readOpenAIUsage } from './usage.ts';

/**
 * `chat.completion.chunk` SSE events into canonical events. Per-stream state: whether the start
 * event went out. A chunk that is not JSON, or JSON of another shape, yields no events (providers
 * send keep-alive oddities); an `error` object inside the stream yields an error event.
 */
export class OpenAIStreamDecoder extends OpenAIChunkDecoder {
  private started = false;

  protected events(payload: JsonRecord): StreamEvent[] {
    const out: StreamEvent[] = [];
    const error = field(payload, 'error');
    if (error !== undefined && error !== null) {
      out.push({ type: 'error', message: stringField(error, 'message') ?? (typeof error === 'string' ? error : 'provider error'), code: stringField(error, 'code') ?? stringField(error, 'type') });
      return out;
    }
    if (!this.started) {
      const id = stringField(payload, 'id');
      // Not from an empty id: Azure opens its streams with a content-filter chunk whose id,
      // model and creation time are empty.
      if (id) {
        this.started = true;
        out.push({ type: 'start', id, model: stringField(payload, 'model') ?? '', created: secondsField(payload, 'created') });
      }
    }
    for (const choice of arrayField(payload, 'choices')) {
      const index = indexField(choice, 'index', MAX_CHOICES);
      if (index === null) continue;
      const delta = field(choice, 'delta');
      const reasoning = stringField(delta, 'reasoning_content') ?? stringField(delta, 'reasoning');
      if (reasoning) out.push({ type: 'reasoning', choice: index, text: reasoning });
      const content = stringField(delta, 'content');
      if (content) out.push({ type: 'text', choice: index, text: content });
      const refusal = stringField(delta, 'refusal');
      if (refusal) out.push({ type: 'refusal', choice: index, text: refusal });
      for (const call of arrayField(delta, 'tool_calls')) {
        const callIndex = indexField(call, 'index', MAX_TOOL_CALLS);
        if (callIndex === null) continue;
        const fn = field(call, 'function');
        out.push({ type: 'tool_call', choice: index, index: callIndex, id: stringField(call, 'id'), name: stringField(fn, 'name'), arguments: stringField(fn, 'arguments') ?? '' });
      }
      const finish = readFinishReason(field(choice, 'finish_reason'));
      if (finish !== null) out.push({ type: 'finish', choice: index, reason: finish });
    }
    const usage = readOpenAIUsage(field(payload, 'usage'));
    if (usage !== null) out.push({ type: 'usage', usage });
    return out;
  }
}
