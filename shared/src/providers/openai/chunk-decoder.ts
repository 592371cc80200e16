import type { StreamEvent } from '../../canonical/events.ts';
import type { SseEvent } from '../../wire/sse.ts';
import type { DecodedFrame } from '../adapter.ts';
import { asRecord, type JsonRecord } from '../json.ts';
import { SseStreamDecoder } from '../sse-decoder.ts';

const nothing = (): DecodedFrame => ({ events: [], raw: null, terminal: false });

/**
 * The framing both OpenAI chunk streams share (`chat.completion.chunk` and the legacy
 * `text_completion`): `[DONE]` ends the stream; comments, data that is not JSON (a cut or broken
 * event) and JSON that is not an object (`data: null` and the like) carry nothing and are not
 * passed on to a client; each chunk object is passed on as the provider sent it, read by `events`.
 */
export abstract class OpenAIChunkDecoder extends SseStreamDecoder {
  protected frame(event: SseEvent): DecodedFrame {
    if (event.type === 'done') return { events: [], raw: null, terminal: true };
    if (event.type === 'comment') return nothing();
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      return nothing();
    }
    const chunk = asRecord(payload);
    if (!chunk) return nothing();
    return { events: this.events(chunk), raw: event.data, terminal: false };
  }

  /** One chunk object into canonical events, keeping per-stream state. */
  protected abstract events(chunk: JsonRecord): StreamEvent[];
}
