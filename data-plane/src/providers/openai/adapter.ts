import type { SseEvent } from '../../http/sse.ts';
import type { ParsedResponse, ProviderAdapter, ReportedUsage, StreamEventInfo } from '../adapter.ts';

interface OpenAIUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

interface OpenAIChoice {
  message?: { content?: unknown };
  delta?: { content?: unknown };
}

interface OpenAIPayload {
  choices?: OpenAIChoice[];
  usage?: OpenAIUsage | null;
}

function readUsage(usage: OpenAIUsage | null | undefined): ReportedUsage | null {
  if (!usage) return null;
  const { prompt_tokens: input, completion_tokens: output } = usage;
  if (!Number.isSafeInteger(input) || !Number.isSafeInteger(output)) return null;
  if ((input as number) < 0 || (output as number) < 0) return null;
  return { inputTokens: input as number, outputTokens: output as number };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const FORWARD_NOTHING: StreamEventInfo = { text: '', usage: null, forward: true };

/** OpenAI Chat Completions, and every provider that speaks it. */
export const openAIAdapter: ProviderAdapter = {
  buildRequest({ body, upstreamModel, apiKey, basePath, stream }) {
    const upstreamBody: Record<string, unknown> = { ...body, model: upstreamModel };
    if (stream) {
      // Ask for the usage chunk so streams are metered from reported usage, not estimates.
      const options = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
      upstreamBody.stream_options = { ...options, include_usage: true };
    }
    return {
      path: `${basePath}/chat/completions`,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        accept: stream ? 'text/event-stream' : 'application/json',
      },
      body: JSON.stringify(upstreamBody),
    };
  },

  parseResponse(body): ParsedResponse {
    const payload = JSON.parse(Buffer.from(body).toString('utf8')) as OpenAIPayload;
    let generated = '';
    for (const choice of payload.choices ?? []) generated += text(choice.message?.content);
    return { usage: readUsage(payload.usage), text: generated };
  },

  parseStreamEvent(event: SseEvent, clientWantsUsage: boolean): StreamEventInfo {
    if (event.type !== 'data') return FORWARD_NOTHING;
    let payload: OpenAIPayload;
    try {
      payload = JSON.parse(event.data) as OpenAIPayload;
    } catch {
      return FORWARD_NOTHING;
    }
    let generated = '';
    for (const choice of payload.choices ?? []) generated += text(choice.delta?.content);
    const usage = readUsage(payload.usage);
    // The usage-only chunk (no choices) exists because we asked for it; a client that did not
    // ask would not expect it.
    const usageOnly = usage !== null && (payload.choices?.length ?? 0) === 0;
    return { text: generated, usage, forward: clientWantsUsage || !usageOnly };
  },
};
