import { jsonReply, split, startProtocolServer, type ProtocolServer, type Reply } from './protocol-server.ts';

/**
 * A fake Anthropic Messages API (`POST /v1/messages`), speaking the wire format of Anthropic's API
 * reference. A scripted answer is the `message` a non-streamed call returns; a streamed call
 * (`"stream": true`) gets the same message as Messages SSE events: `message_start` (input and
 * cache counts), per content block `content_block_start`, its deltas (`text_delta` in two pieces,
 * `input_json_delta` in three, `thinking_delta` then `signature_delta`) and `content_block_stop`,
 * a `ping`, then `message_delta` (stop reason, stop sequence, output count) and `message_stop`.
 * `POST /v1/messages/count_tokens` answers `{"input_tokens": N}` with the next answer's input count.
 * A request without the configured `x-api-key` or without `anthropic-version` gets Anthropic's 401.
 */
export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface AnthropicAnswer {
  content: AnthropicBlock[];
  stop_reason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export interface AnthropicFake extends ProtocolServer<AnthropicAnswer> {
  /** Base URL for a channel (ends in /v1). */
  url: string;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

function sse(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

function blockEvents(block: AnthropicBlock, index: number): string[] {
  const delta = (d: Record<string, unknown>): string => sse('content_block_delta', { index, delta: d });
  switch (block.type) {
    case 'text':
      return [sse('content_block_start', { index, content_block: { type: 'text', text: '' } }), ...split(block.text, 2).map((text) => delta({ type: 'text_delta', text }))];
    case 'thinking':
      return [
        sse('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
        ...split(block.thinking, 2).map((thinking) => delta({ type: 'thinking_delta', thinking })),
        delta({ type: 'signature_delta', signature: block.signature }),
      ];
    case 'tool_use':
      return [
        sse('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }),
        ...split(JSON.stringify(block.input), 3).map((partial_json) => delta({ type: 'input_json_delta', partial_json })),
      ];
  }
}

function stream(answer: AnthropicAnswer, id: string, model: string): Reply {
  const { input_tokens, cache_read_input_tokens, cache_creation_input_tokens } = answer.usage;
  const pieces = [
    sse('message_start', {
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens: 1 } },
    }),
    ...answer.content.flatMap((block, index) => [...blockEvents(block, index), sse('content_block_stop', { index })]),
    sse('ping', {}),
    sse('message_delta', { delta: { stop_reason: answer.stop_reason, stop_sequence: answer.stop_sequence }, usage: { output_tokens: answer.usage.output_tokens } }),
    sse('message_stop', {}),
  ];
  return { status: 200, headers: SSE_HEADERS, pieces };
}

export async function startAnthropic(options: { apiKey: string }): Promise<AnthropicFake> {
  let count = 0;
  const server = await startProtocolServer<AnthropicAnswer>('anthropic', (request, next) => {
    const counting = request.path === '/v1/messages/count_tokens';
    if (request.method !== 'POST' || (request.path !== '/v1/messages' && !counting)) return jsonReply(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
    if (request.headers['x-api-key'] !== options.apiKey || typeof request.headers['anthropic-version'] !== 'string') {
      return jsonReply(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    }
    const body = request.body as { model?: unknown; stream?: unknown } | null;
    const model = typeof body?.model === 'string' ? body.model : 'claude-unknown';
    const answer = next();
    if (counting) return jsonReply(200, { input_tokens: answer.usage.input_tokens });
    const id = `msg_01Fake${++count}`;
    if (body?.stream === true) return stream(answer, id, model);
    return jsonReply(200, { id, type: 'message', role: 'assistant', model, ...answer });
  });
  return { ...server, url: `${server.origin}/v1` };
}
