import type { SseEvent } from '../../http/sse.ts';
import type { ParsedResponse, ProviderAdapter, ReportedUsage, StreamEventInfo } from '../adapter.ts';

/**
 * Provider JSON is read as `unknown` and narrowed field by field: an upstream that sends `null`,
 * `"choices": 5` or `[null]` must yield "no text, no usage", never a TypeError (in the stream
 * path that would be thrown from an event listener and take the process down).
 */
function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

function readUsage(payload: unknown): ReportedUsage | null {
  const usage = field(payload, 'usage');
  const input = field(usage, 'prompt_tokens');
  const output = field(usage, 'completion_tokens');
  if (typeof input !== 'number' || typeof output !== 'number') return null;
  if (!Number.isSafeInteger(input) || !Number.isSafeInteger(output) || input < 0 || output < 0) return null;
  return { inputTokens: input, outputTokens: output };
}

function choicesOf(payload: unknown): unknown[] | null {
  const choices = field(payload, 'choices');
  return Array.isArray(choices) ? choices : null;
}

/** The concatenated `content` strings under `part` ('message' or 'delta') of every choice. */
function generatedText(choices: unknown[] | null, part: 'message' | 'delta'): string {
  let text = '';
  for (const choice of choices ?? []) {
    const content = field(field(choice, part), 'content');
    if (typeof content === 'string') text += content;
  }
  return text;
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
    // Throws on invalid JSON only; the caller answers 502 for that.
    const payload: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    return { usage: readUsage(payload), text: generatedText(choicesOf(payload), 'message') };
  },

  parseStreamEvent(event: SseEvent, clientWantsUsage: boolean): StreamEventInfo {
    if (event.type !== 'data') return FORWARD_NOTHING;
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      return FORWARD_NOTHING;
    }
    const choices = choicesOf(payload);
    const usage = readUsage(payload);
    // The usage-only chunk (no choices) exists because we asked for it; a client that did not
    // ask would not expect it.
    const usageOnly = usage !== null && (choices?.length ?? 0) === 0;
    return { text: generatedText(choices, 'delta'), usage, forward: clientWantsUsage || !usageOnly };
  },
};
