import type { ChatRequest, ChatResponse, ClientFormat, GatewayError, StreamEvent, Usage } from '@tollgate/shared';

/** What a renderer needs to know about the request it answers. */
export interface RenderContext {
  requestId: string;
  /** The public model routed to: shown when the provider names none (Bedrock never does). */
  model: string;
  /** The client asked for usage in the stream. */
  includeUsage: boolean;
}

/**
 * Renders one streamed answer in the client's format. Each method returns wire text to write ('' for
 * nothing). The renderer keeps the per-stream state its format needs (ids, which choices started).
 */
export interface StreamRenderer {
  events(events: readonly StreamEvent[]): string;
  /**
   * A provider frame in this very format (the passthrough path): returned as it came, or '' when it
   * must not reach the client (a usage-only frame the client did not ask for).
   */
  passthrough(raw: string, events: readonly StreamEvent[]): string;
  /**
   * Ends a stream that completed or was cut by the gateway: finish events for choices still open
   * (`cutReason`, when the gateway cut it), the usage the client asked for, and the terminator.
   */
  finish(usage: Usage, cutReason: 'length' | null): string;
  /** Ends a stream the upstream broke after content was sent: an error event and a clean end. */
  fail(error: GatewayError): string;
}

/**
 * One per client wire format (DESIGN.md, "Ingress codecs"): parse the client body into the canonical
 * request, render canonical answers, stream events and errors back in that format.
 */
export interface IngressCodec<Req = ChatRequest, Res = ChatResponse> {
  readonly format: ClientFormat;
  /** Throws GatewayError (400) on a body the gateway cannot serve; bounds every list and number. */
  parse(body: Buffer): Req;
  renderResponse(response: Res, usage: Usage, ctx: RenderContext): string;
  /** Absent for operations that never stream (embeddings): their parse refuses `stream`. */
  newStreamRenderer?(ctx: RenderContext): StreamRenderer;
  /** The error body in this format; the status is the error's. */
  renderError(error: GatewayError): string;
  readonly streamHeaders: readonly (readonly [string, string])[];
}
