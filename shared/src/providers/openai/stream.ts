import type { StreamEvent } from '../../canonical/events.ts';
import type { SseEvent } from '../../wire/sse.ts';
import type { DecodedFrame } from '../adapter.ts';
import { SseStreamDecoder } from '../sse-decoder.ts';
import { arrayField, asRecord, field, indexField, numberField, stringField } from '../json.ts';
import { readFinishReason } from './finish.ts';
import { MAX_CHOICES, MAX_TOOL_CALLS } from './response.ts';
import { readOpenAIUsage } from './usage.ts';

/**
 * `chat.completion.chunk` SSE events into canonical events. Per-stream state: whether the start
 * event went out. A chunk that is not JSON, or JSON of another shape, yields no events (providers
 * send keep-alive oddities); an `error` object inside the stream yields an error event.
 */
export class OpenAIStreamDecoder extends SseStreamDecoder {
  private started = false;

  protected frame(event: SseEvent): DecodedFrame {
    if (event.type === 'done') return { events: [], raw: null, terminal: true };
    if (event.type === 'comment') return { events: [], raw: null, terminal: false };
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      // Not JSON (a cut or broken event): nothing to read, and nothing to pass on to a client.
      return { events: [], raw: null, terminal: false };
    }
    // Only chunk objects are passed through; `data: null` and the like are not an answer's part.
    return { events: this.events(payload), raw: asRecord(payload) ? event.data : null, terminal: false };
  }

  private events(payload: unknown): StreamEvent[] {
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
        out.push({ type: 'start', id, model: stringField(payload, 'model') ?? '', created: Math.max(0, Math.floor(numberField(payload, 'created') ?? Date.now() / 1000)) });
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
