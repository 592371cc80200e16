import type { ToolCall, Usage } from '@tollgate/shared';
import { writeResponsesUsage } from '@tollgate/shared/providers/openai-responses/usage';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';
type Json = Record<string, unknown>;

/**
 * Ids for one answer's response and output items, from the request id: unique per request, and
 * stable between a stream's events and its final response. An upstream's own response id is kept
 * when it is a Responses id.
 */
export class OutputIds {
  private readonly base: string;

  constructor(requestId: string) {
    this.base = requestId.replace(/^req_/, '');
  }

  response(upstreamId: string | null): string {
    return upstreamId !== null && upstreamId.startsWith('resp_') ? upstreamId : `resp_${this.base}`;
  }

  item(prefix: 'msg' | 'rs' | 'fc', outputIndex: number): string {
    return `${prefix}_${this.base}_${outputIndex}`;
  }

  /** A call id for a tool call whose provider gave it none. */
  call(index: number): string {
    return `call_${this.base}_${index}`;
  }
}

/** One Responses SSE event: its type on the event line, then its JSON with its sequence number. */
export function responsesEvent(type: string, sequence: number, fields: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`;
}

export type ContentPartText = { type: 'output_text'; text: string } | { type: 'refusal'; text: string };

export function contentPart(part: ContentPartText): Json {
  return part.type === 'output_text' ? { type: 'output_text', annotations: [], logprobs: [], text: part.text } : { type: 'refusal', refusal: part.text };
}

export function messageItem(id: string, parts: readonly ContentPartText[], status: ItemStatus): Json {
  return { id, type: 'message', status, role: 'assistant', content: parts.map(contentPart) };
}

/** Reasoning as a summary: whatever the provider called it, it is the reasoning a client may show. */
export function reasoningItem(id: string, text: string | null): Json {
  return { id, type: 'reasoning', summary: text === null ? [] : [{ type: 'summary_text', text }] };
}

export function functionCallItem(id: string, call: ToolCall, status: ItemStatus): Json {
  return { id, type: 'function_call', status, call_id: call.id, name: call.name, arguments: call.arguments };
}

export interface ResponseFields {
  id: string;
  createdAt: number;
  model: string;
  status: ResponseStatus;
  incompleteDetails: { reason: string } | null;
  error: { code: string; message: string } | null;
  output: readonly Json[];
  usage: Usage | null;
}

/**
 * A `response` object. The fields that echo the request (instructions, tools, sampling, ...) are not
 * known where an answer is rendered, so they carry the API's neutral values rather than guesses;
 * `store` is false, as it was for the provider.
 */
export function responseObject(r: ResponseFields): Json {
  return {
    id: r.id,
    object: 'response',
    created_at: r.createdAt,
    status: r.status,
    background: false,
    error: r.error,
    incomplete_details: r.incompleteDetails,
    instructions: null,
    max_output_tokens: null,
    model: r.model,
    output: r.output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    usage: r.usage === null ? null : writeResponsesUsage(r.usage),
    user: null,
    metadata: {},
  };
}

/** The error a failed response carries: our words, never a provider's. */
export function responseError(message: string): { code: string; message: string } {
  return { code: 'server_error', message };
}
