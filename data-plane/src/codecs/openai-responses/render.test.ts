import { GatewayError, usage, type ChatResponse } from '@tollgate/shared';
import { describe, expect, it } from 'vitest';
import { openAIResponsesCodec } from './index.ts';

const CTX = { requestId: 'req_0123abcd', model: 'gpt-public', includeUsage: true };
const USAGE = usage({ input: 76, cachedInput: 1024, output: 18, reasoning: 512 });
const RENDERED_USAGE = { input_tokens: 1100, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 530, output_tokens_details: { reasoning_tokens: 512 }, total_tokens: 1630 };

function answer(choice: Partial<ChatResponse['choices'][number]>, overrides: Partial<ChatResponse> = {}): ChatResponse {
  return {
    id: 'chatcmpl-up',
    model: 'gpt-4.1-2025-04-14',
    created: 1_756_000_000,
    choices: [{ index: 0, text: null, reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop', ...choice }],
    usage: null,
    ...overrides,
  };
}

const render = (response: ChatResponse): unknown => JSON.parse(openAIResponsesCodec.renderResponse(response, USAGE, CTX));

/** The fields every rendered response has that echo nothing the renderer knows. */
const NEUTRAL = {
  object: 'response',
  background: false,
  instructions: null,
  max_output_tokens: null,
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
  user: null,
  metadata: {},
};

describe('Responses rendering: whole answers', () => {
  it('renders text as one message item, with the billed usage and our response id', () => {
    expect(render(answer({ text: 'Paris.' }))).toEqual({
      ...NEUTRAL,
      id: 'resp_0123abcd',
      created_at: 1_756_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: 'gpt-4.1-2025-04-14',
      output: [{ id: 'msg_0123abcd_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Paris.' }] }],
      usage: RENDERED_USAGE,
    });
  });

  it('renders reasoning, text, a refusal and tool calls in the Responses API’s order, call ids kept', () => {
    const rendered = render(
      answer(
        {
          reasoning: 'Think first.',
          text: 'Checking.',
          refusal: 'Not that.',
          toolCalls: [
            { id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'call_B', name: 'get_time', arguments: '{}' },
          ],
          finishReason: 'tool_calls',
        },
        { id: 'resp_upstream1', model: '' },
      ),
    ) as Record<string, unknown>;
    expect([rendered.id, rendered.model, rendered.status, rendered.output]).toEqual([
      // A Responses id from upstream is kept; an answer that names no model shows the public one.
      'resp_upstream1',
      'gpt-public',
      'completed',
      [
        { id: 'rs_0123abcd_0', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Think first.' }] },
        {
          id: 'msg_0123abcd_1',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Checking.' }, { type: 'refusal', refusal: 'Not that.' }],
        },
        { id: 'fc_0123abcd_2', type: 'function_call', status: 'completed', call_id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'fc_0123abcd_3', type: 'function_call', status: 'completed', call_id: 'call_B', name: 'get_time', arguments: '{}' },
      ],
    ]);
  });

  it('replaces a call id the provider repeated, so outputs pair with one call each', () => {
    const rendered = render(answer({ toolCalls: [{ id: 'dup', name: 'a', arguments: '{}' }, { id: 'dup', name: 'b', arguments: '{}' }], finishReason: 'tool_calls' })) as { output: { call_id: string }[] };
    expect(rendered.output.map((o) => o.call_id)).toEqual(['dup', 'call_0123abcd_1']);
  });

  it('renders an answer cut at the output cap or by a content filter as incomplete, with the reason', () => {
    const cut = render(answer({ text: 'The novel', finishReason: 'length' })) as Record<string, unknown>;
    expect([cut.status, cut.incomplete_details, (cut.output as { status: string }[])[0]!.status]).toEqual(['incomplete', { reason: 'max_output_tokens' }, 'incomplete']);
    const filtered = render(answer({ text: '', finishReason: 'content_filter' })) as Record<string, unknown>;
    expect([filtered.status, filtered.incomplete_details, filtered.output]).toEqual([
      'incomplete',
      { reason: 'content_filter' },
      [{ id: 'msg_0123abcd_0', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: '' }] }],
    ]);
  });

  it('renders an answer without content as an empty output, and one without a choice the same', () => {
    expect((render(answer({})) as { output: unknown }).output).toEqual([]);
    const empty = render({ ...answer({}), choices: [] }) as { output: unknown; status: string };
    expect([empty.output, empty.status]).toEqual([[], 'completed']);
  });
});

describe('Responses rendering: errors', () => {
  it('renders errors in the Responses API’s (OpenAI’s) shape, with our code and words', () => {
    const error = new GatewayError('unsupported_parameter', '"previous_response_id" is not supported.', 'previous_response_id');
    expect(JSON.parse(openAIResponsesCodec.renderError(error))).toEqual({
      error: { message: '"previous_response_id" is not supported.', type: 'invalid_request_error', code: 'unsupported_parameter', param: 'previous_response_id' },
    });
  });

  it('is the codec of the Responses format, streaming SSE', () => {
    expect([openAIResponsesCodec.format, openAIResponsesCodec.streamHeaders]).toEqual([
      'openai-responses',
      [
        ['content-type', 'text/event-stream; charset=utf-8'],
        ['cache-control', 'no-cache'],
      ],
    ]);
  });
});
