import { GatewayError, type DecodedFrame } from '@tollgate/shared';
import type { IngressCodec, StreamRenderer } from '../codecs/codec.ts';
import type { AttemptSuccess } from '../dispatch/attempt.ts';
import type { Headers, Reply } from '../http/reply.ts';
import type { Meter } from '../metering/meter.ts';
import type { RelayOutcome } from './outcome.ts';

export interface StreamRelayInput {
  success: Extract<AttemptSuccess<unknown>, { kind: 'stream' }>;
  codec: IngressCodec<unknown, unknown>;
  renderer: StreamRenderer;
  /** The provider speaks the client's format: forward its frames as they came. */
  passthrough: boolean;
  reply: Reply;
  headers: Headers;
  meter: Meter;
  maxResponseBytes: number;
  /** The usage billed so far (the pipeline's), for the client's usage chunk at the end. */
  finalUsage(): Promise<Parameters<StreamRenderer['finish']>[0]>;
}

/**
 * Relays a stream that has produced content: headers leave with the first chunk; every frame is
 * metered (usage read, output counted) and written in the client's format, or verbatim on the
 * passthrough path; a slow client pauses the upstream (pull, not push). Once the first byte is out
 * nothing can fall back: an upstream failure or error event ends the stream with an error event in
 * the client's format and a clean termination; output past the hold is cut with `length`.
 */
export async function relayStream(input: StreamRelayInput): Promise<RelayOutcome> {
  const { success, reply, renderer, meter } = input;
  const { call, decoder } = success;
  let started = false;
  let cut = false;
  let upstreamError = false;
  let ended = false;
  const opened = new Set<number>();
  const finished = new Set<number>();

  const render = (frames: readonly DecodedFrame[]): string => {
    let out = '';
    for (const frame of frames) {
      if (frame.terminal) ended = true;
      for (const e of frame.events) {
        if (e.type === 'finish') finished.add(e.choice);
        else if (e.type === 'text' || e.type === 'reasoning' || e.type === 'refusal' || e.type === 'tool_call') opened.add(e.choice);
      }
      if (frame.events.some((e) => e.type === 'error')) {
        upstreamError = true;
        break;
      }
      if (meter.observe(frame.events)) {
        // Output past what the hold covers: what is already counted is sent, nothing more.
        cut = true;
      }
      out += input.passthrough ? (frame.raw === null ? '' : renderer.passthrough(frame.raw, frame.events)) : renderer.events(frame.events);
      if (cut) break;
    }
    return out;
  };

  /** The client left: what the upstream had already sent may hold its usage; meter it, send nothing. */
  const clientLeft = (): RelayOutcome => {
    for (const chunk of call.leftover) {
      try {
        for (const frame of decoder.push(chunk)) meter.observe(frame.events);
      } catch {
        break;
      }
    }
    return { status: 'client_aborted', httpStatus: 200, billable: true, errorCode: null };
  };

  const write = async (text: string): Promise<void> => {
    const writable = started ? reply.write(text) : reply.begin(200, [...input.headers, ...input.codec.streamHeaders], text);
    started = true;
    if (!writable) await reply.drained();
  };

  try {
    await write(render(success.pending));
    while (!cut && !upstreamError && reply.open) {
      const chunk = await call.next(input.maxResponseBytes);
      const frames = chunk === null ? decoder.end() : decoder.push(chunk);
      const text = render(frames);
      if (text.length > 0) await write(text);
      if (chunk === null) {
        // The body ended: complete only if the provider said so (its end marker, or every choice finished).
        if (!ended && [...opened].some((c) => !finished.has(c))) upstreamError = true;
        break;
      }
    }
    // Cut at the hold, or an error event: stop the upstream, it would only send more.
    if (cut || upstreamError) call.abort('gateway');
  } catch {
    if (call.reason === 'client' || reply.wasAborted) return clientLeft();
    upstreamError = true;
  } finally {
    call.dispose();
  }
  if (!reply.open) return clientLeft();
  if (upstreamError) {
    const error = new GatewayError('upstream_error', 'The provider failed while streaming; the answer is incomplete.');
    reply.end(renderer.fail(error));
    return { status: 'upstream_error', httpStatus: 200, billable: true, errorCode: error.code };
  }
  const usage = await input.finalUsage();
  reply.end(renderer.finish(usage, cut ? 'length' : null));
  return { status: cut ? 'cut_at_hold' : 'ok', httpStatus: 200, billable: true, errorCode: null };
}
