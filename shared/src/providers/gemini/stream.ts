import type { StreamEvent } from '../../canonical/events.ts';
import type { Usage } from '../../canonical/usage.ts';
import type { SseEvent } from '../../wire/sse.ts';
import type { DecodedFrame } from '../adapter.ts';
import { SseStreamDecoder } from '../sse-decoder.ts';
import { arrayField, asRecord, field, indexField, numberField, stringField } from '../json.ts';
import { readFinishReason, withCalls } from './finish.ts';
import { callId, MAX_CANDIDATES, MAX_TOOL_CALLS, readPart } from './parts.ts';
import { createdOf } from './response.ts';
import { readGeminiUsage, sameUsage } from './usage.ts';

interface CandidateState {
  /** Function calls seen so far: the next one's index. */
  calls: number;
  finished: boolean;
}

/**
 * `streamGenerateContent?alt=sse` into canonical events. Every SSE `data:` is a whole
 * GenerateContentResponse chunk: text arrives as deltas per candidate, a `functionCall` part
 * arrives whole (one tool_call event with id, name and all arguments), `thought: true` parts are
 * reasoning, and each chunk's `usageMetadata` is the usage so far (emitted when it changed; the
 * last one wins). Gemini ends a stream without an end marker, so no frame is terminal: a stream is
 * complete when every candidate finished, and a finish event is emitted once per candidate (for a
 * refused prompt, candidate 0). Per-stream state: start sent, the response id, and per candidate
 * its call count and whether it finished.
 */
export class GeminiStreamDecoder extends SseStreamDecoder {
  private started = false;
  private responseId: string | null = null;
  private readonly candidates = new Map<number, CandidateState>();
  private usage: Usage | null = null;

  protected frame(event: SseEvent): DecodedFrame {
    // Gemini sends no `[DONE]`; one from elsewhere means nothing here.
    if (event.type !== 'data') return { events: [], raw: null, terminal: false };
    return { events: this.events(event.data), raw: event.data, terminal: false };
  }

  private events(data: string): StreamEvent[] {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return [];
    }
    if (!asRecord(payload)) return [];
    const out: StreamEvent[] = [];
    const error = field(payload, 'error');
    if (error !== undefined && error !== null) {
      // Google's error shape: {"code": 503, "message": "...", "status": "UNAVAILABLE"}.
      const code = stringField(error, 'status') ?? numberField(error, 'code');
      out.push({ type: 'error', message: stringField(error, 'message') ?? (typeof error === 'string' ? error : 'provider error'), code: code === null ? null : String(code) });
      return out;
    }
    this.responseId ??= stringField(payload, 'responseId');
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: this.responseId ?? '', model: stringField(payload, 'modelVersion') ?? '', created: createdOf(payload) });
    }
    arrayField(payload, 'candidates').forEach((candidate, position) => {
      const index = field(candidate, 'index') === undefined ? position : indexField(candidate, 'index', MAX_CANDIDATES);
      if (index !== null && index < MAX_CANDIDATES) this.candidate(candidate, index, out);
    });
    if (stringField(field(payload, 'promptFeedback'), 'blockReason') && !this.state(0).finished) {
      this.state(0).finished = true;
      out.push({ type: 'finish', choice: 0, reason: 'content_filter' });
    }
    const usage = readGeminiUsage(field(payload, 'usageMetadata'));
    if (usage !== null && (this.usage === null || !sameUsage(usage, this.usage))) {
      this.usage = usage;
      out.push({ type: 'usage', usage });
    }
    return out;
  }

  private state(index: number): CandidateState {
    let state = this.candidates.get(index);
    if (state === undefined) {
      state = { calls: 0, finished: false };
      this.candidates.set(index, state);
    }
    return state;
  }

  private candidate(candidate: unknown, choice: number, out: StreamEvent[]): void {
    const state = this.state(choice);
    // A candidate that finished says nothing more; a hostile upstream must not reopen it.
    if (state.finished) return;
    for (const raw of arrayField(field(candidate, 'content'), 'parts')) {
      const part = readPart(raw);
      if (part === null) continue;
      if (part.type === 'text') out.push({ type: part.thought ? 'reasoning' : 'text', choice, text: part.text });
      else if (state.calls < MAX_TOOL_CALLS) {
        out.push({
          type: 'tool_call',
          choice,
          index: state.calls,
          id: part.id ?? callId(this.responseId, choice, state.calls),
          name: part.name,
          arguments: part.arguments,
          ...(part.signature !== null ? { signature: part.signature } : {}),
        });
        state.calls++;
      }
    }
    const finish = readFinishReason(field(candidate, 'finishReason'));
    if (finish !== null) {
      state.finished = true;
      out.push({ type: 'finish', choice, reason: withCalls(finish, state.calls) });
    }
  }
}
