import { jsonReply, split, startProtocolServer, type ProtocolServer, type Reply } from './protocol-server.ts';

/**
 * A fake OpenAI Responses API (`POST /v1/responses`), speaking the wire format of OpenAI's API
 * reference. A scripted answer gives the output items and usage; a non-streamed call gets the
 * whole `response` object, a streamed one its SSE events: `response.created`,
 * `response.in_progress`, per output item `output_item.added`, its parts and deltas (message text
 * in two `output_text.delta` pieces, function-call arguments in three, reasoning summaries in two)
 * with their `done` events, `output_item.done`, and last `response.completed` carrying the whole
 * response and its usage. Each event has its `sequence_number`. A request without the configured
 * bearer key gets OpenAI's 401.
 */
export type ResponsesOutput =
  | { type: 'message'; text: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'reasoning'; summary: string };

export interface ResponsesUsage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export interface ResponsesAnswer {
  output: ResponsesOutput[];
  usage: ResponsesUsage;
}

export interface ResponsesFake extends ProtocolServer<ResponsesAnswer> {
  /** Base URL for a channel (ends in /v1). */
  url: string;
}

type Json = Record<string, unknown>;

function item(output: ResponsesOutput, index: number, id: string): Json {
  switch (output.type) {
    case 'message':
      return { id: `msg_${id}_${index}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: output.text, annotations: [], logprobs: [] }] };
    case 'function_call':
      return { id: `fc_${id}_${index}`, type: 'function_call', status: 'completed', arguments: output.arguments, call_id: output.call_id, name: output.name };
    case 'reasoning':
      return { id: `rs_${id}_${index}`, type: 'reasoning', summary: [{ type: 'summary_text', text: output.summary }] };
  }
}

function response(answer: ResponsesAnswer | null, id: string, model: string, created: number): Json {
  const u = answer?.usage;
  return {
    id: `resp_${id}`,
    object: 'response',
    created_at: created,
    status: answer === null ? 'in_progress' : 'completed',
    error: null,
    incomplete_details: null,
    instructions: null,
    model,
    output: answer === null ? [] : answer.output.map((o, i) => item(o, i, id)),
    parallel_tool_calls: true,
    store: false,
    usage:
      u === undefined
        ? null
        : {
            input_tokens: u.input_tokens,
            input_tokens_details: { cached_tokens: u.cached_tokens },
            output_tokens: u.output_tokens,
            output_tokens_details: { reasoning_tokens: u.reasoning_tokens },
            total_tokens: u.input_tokens + u.output_tokens,
          },
  };
}

function itemEvents(output: ResponsesOutput, output_index: number, id: string): Json[] {
  const whole = item(output, output_index, id);
  const item_id = whole.id;
  switch (output.type) {
    case 'message': {
      const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      return [
        { type: 'response.output_item.added', output_index, item: { ...whole, status: 'in_progress', content: [] } },
        { type: 'response.content_part.added', item_id, output_index, content_index: 0, part },
        ...split(output.text, 2).map((delta) => ({ type: 'response.output_text.delta', item_id, output_index, content_index: 0, delta, logprobs: [] })),
        { type: 'response.output_text.done', item_id, output_index, content_index: 0, text: output.text, logprobs: [] },
        { type: 'response.content_part.done', item_id, output_index, content_index: 0, part: { ...part, text: output.text } },
        { type: 'response.output_item.done', output_index, item: whole },
      ];
    }
    case 'function_call':
      return [
        { type: 'response.output_item.added', output_index, item: { ...whole, status: 'in_progress', arguments: '' } },
        ...split(output.arguments, 3).map((delta) => ({ type: 'response.function_call_arguments.delta', item_id, output_index, delta })),
        { type: 'response.function_call_arguments.done', item_id, output_index, arguments: output.arguments },
        { type: 'response.output_item.done', output_index, item: whole },
      ];
    case 'reasoning': {
      const part = { type: 'summary_text', text: '' };
      return [
        { type: 'response.output_item.added', output_index, item: { ...whole, summary: [] } },
        { type: 'response.reasoning_summary_part.added', item_id, output_index, summary_index: 0, part },
        ...split(output.summary, 2).map((delta) => ({ type: 'response.reasoning_summary_text.delta', item_id, output_index, summary_index: 0, delta })),
        { type: 'response.reasoning_summary_text.done', item_id, output_index, summary_index: 0, text: output.summary },
        { type: 'response.reasoning_summary_part.done', item_id, output_index, summary_index: 0, part: { ...part, text: output.summary } },
        { type: 'response.output_item.done', output_index, item: whole },
      ];
    }
  }
}

function stream(answer: ResponsesAnswer, id: string, model: string, created: number): Reply {
  const events: Json[] = [
    { type: 'response.created', response: response(null, id, model, created) },
    { type: 'response.in_progress', response: response(null, id, model, created) },
    ...answer.output.flatMap((o, i) => itemEvents(o, i, id)),
    { type: 'response.completed', response: response(answer, id, model, created) },
  ];
  const pieces = events.map((e, sequence_number) => `event: ${String(e.type)}\ndata: ${JSON.stringify({ ...e, sequence_number })}\n\n`);
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' }, pieces };
}

export async function startResponses(options: { apiKey: string }): Promise<ResponsesFake> {
  let count = 0;
  const server = await startProtocolServer<ResponsesAnswer>('openai-responses', (request, next) => {
    if (request.method !== 'POST' || request.path !== '/v1/responses') return jsonReply(404, { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } });
    if (request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return jsonReply(401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
    const body = request.body as { model?: unknown; stream?: unknown } | null;
    const model = typeof body?.model === 'string' ? body.model : 'gpt-unknown';
    const answer = next();
    const id = `fake${++count}`;
    const created = 1_767_000_000 + count;
    if (body?.stream === true) return stream(answer, id, model, created);
    return jsonReply(200, response(answer, id, model, created));
  });
  return { ...server, url: `${server.origin}/v1` };
}
