import { SseLimitError, SseParser, type SseEvent } from '../wire/sse.ts';
import { UpstreamFormatError, type DecodedFrame, type StreamDecoder, type StreamLimits } from './adapter.ts';

/**
 * The SSE transport every SSE-speaking adapter shares: bytes into SSE events, bounded per event,
 * each event into a decoded frame by the adapter's own `frame` (its per-stream state and parsing).
 */
export abstract class SseStreamDecoder implements StreamDecoder {
  private readonly sse: SseParser;

  constructor(limits: StreamLimits) {
    this.sse = new SseParser(limits.maxFrameChars);
  }

  push(chunk: Uint8Array): DecodedFrame[] {
    let events: SseEvent[];
    try {
      events = this.sse.push(chunk);
    } catch (error) {
      if (error instanceof SseLimitError) throw new UpstreamFormatError(error.message, true);
      throw error;
    }
    return events.map((e) => this.frame(e));
  }

  end(): DecodedFrame[] {
    return this.sse.end().map((e) => this.frame(e));
  }

  protected abstract frame(event: SseEvent): DecodedFrame;
}
