import type { SseEvent } from '../http/sse.ts';

/** Token counts as the provider reported them. */
export interface ReportedUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface UpstreamRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What one stream event means to the gateway, and whether the client should see it. */
export interface StreamEventInfo {
  /** Generated text in this event, for the estimate when no usage is reported. */
  text: string;
  usage: ReportedUsage | null;
  forward: boolean;
}

export interface ParsedResponse {
  usage: ReportedUsage | null;
  /** Generated text, for the estimate when no usage is reported. */
  text: string;
}

/**
 * One adapter per wire protocol. The required interface is small: build the upstream request, read
 * a whole response, read one stream event. Providers speaking the OpenAI format reuse one adapter.
 */
export interface ProviderAdapter {
  buildRequest(input: {
    body: Record<string, unknown>;
    upstreamModel: string;
    apiKey: string;
    basePath: string;
    stream: boolean;
  }): UpstreamRequest;
  parseResponse(body: Uint8Array): ParsedResponse;
  /** `clientWantsUsage`: the client asked for the usage chunk itself (stream_options.include_usage). */
  parseStreamEvent(event: SseEvent, clientWantsUsage: boolean): StreamEventInfo;
}
