import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterFor, GatewayError, usage, type DecodedFrame, type StreamEvent, type Usage } from '@tollgate/shared';
import fc from 'fast-check';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openAIResponsesCodec } from './index.ts';

const FIXTURES = join(import.meta.dirname, '../../../../shared/src/providers/openai-responses/__fixtures__');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const NOW = 1_750_000_000;
const renderer = () => openAIResponsesCodec.newStreamRenderer!({ requestId: 'req_ab12', includeUsage: true, model: 'gpt-public' });

/** The events of a rendered stream, parsed, each checked to repeat its type on the event line. */
function parsed(text: string): (Record<string, unknown> & { type: string; sequence_number: number })[] {
  return text
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Record<string, unknown> & { type: string; sequence_number: number };
      expect([eventLine, rest]).toEqual([`event: ${data.type}`, []]);
      return data;
    });
}

/** What the OpenAI SDK's own accumulator builds from the events before the final one, and the final response. */
function accumulated(text: string): { built: Response | undefined; final: unknown } {
  const events = parsed(text);
  let built: Response | undefined;
  for (const event of events.slice(0, -1)) built = accumulateResponse(event as unknown as ResponseStreamEvent, built);
  return { built, final: events.at(-1)!.response };
}

function decode(text: string): DecodedFrame[] {
  const decoder = adapterFor('openai-responses')!.newStreamDecoder({ maxFrameChars: 1 << 20 });
  return [...decoder.push(new TextEncoder().encode(text)), ...decoder.end()];
}
const eventsOf = (frames: DecodedFrame[]): StreamEvent[] => frames.flatMap((f) => f.events);
const finalUsage = (events: StreamEvent[]): Usage => events.reduce<Usage>((found, e) => (e.type === 'usage' ? e.usage : found), usage({}));

/** The response object a rendered event carries, for the neutral fields' sake. */
const response = (id: string, model: string, createdAt: number, status: string, output: unknown[], extra: Record<string, unknown> = {}) => ({
  id, object: 'response', created_at: createdAt, status, background: false, error: null, incomplete_details: null, instructions: null, max_output_tokens: null,
  model, output, parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null }, store: false, temperature: null,
  text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: null, truncation: 'disabled', usage: null, user: null, metadata: {}, ...extra,
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Responses stream rendering: the general path', () => {
  it('renders text exactly as the Responses API streams it, ending with the billed usage', () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'chatcmpl-up', model: 'gpt-4.1', created: 1_756_000_000 },
        { type: 'text', choice: 0, text: 'Bon' },
        { type: 'text', choice: 0, text: 'jour' },
        { type: 'finish', choice: 0, reason: 'stop' },
        { type: 'usage', usage: usage({ input: 9, output: 2 }) },
      ]) + r.finish(usage({ input: 9, output: 2 }), null);
    const where = { item_id: 'msg_ab12_0', output_index: 0, content_index: 0 };
    const item = { id: 'msg_ab12_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Bonjour' }] };
    expect(parsed(out)).toEqual([
      { type: 'response.created', sequence_number: 0, response: response('resp_ab12', 'gpt-4.1', 1_756_000_000, 'in_progress', []) },
      { type: 'response.in_progress', sequence_number: 1, response: response('resp_ab12', 'gpt-4.1', 1_756_000_000, 'in_progress', []) },
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { id: 'msg_ab12_0', type: 'message', status: 'in_progress', role: 'assistant', content: [] } },
      { type: 'response.content_part.added', sequence_number: 3, ...where, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } },
      { type: 'response.output_text.delta', sequence_number: 4, ...where, delta: 'Bon', logprobs: [] },
      { type: 'response.output_text.delta', sequence_number: 5, ...where, delta: 'jour', logprobs: [] },
      { type: 'response.output_text.done', sequence_number: 6, ...where, text: 'Bonjour', logprobs: [] },
      { type: 'response.content_part.done', sequence_number: 7, ...where, part: { type: 'output_text', annotations: [], logprobs: [], text: 'Bonjour' } },
      { type: 'response.output_item.done', sequence_number: 8, output_index: 0, item },
      {
        type: 'response.completed',
        sequence_number: 9,
        response: response('resp_ab12', 'gpt-4.1', 1_756_000_000, 'completed', [item], {
          usage: { input_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 11 },
        }),
      },
    ]);
  });

  it('renders reasoning, text and two tool calls as items in order; calls close at the end, their ids kept', () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'resp_up', model: 'o4-mini', created: 1_756_000_000 },
        { type: 'reasoning', choice: 0, text: 'Two lookups.' },
        { type: 'reasoning', choice: 0, text: '', signature: 'sig' },
        { type: 'text', choice: 0, text: 'Checking.' },
        { type: 'tool_call', choice: 0, index: 0, id: 'call_A', name: 'get_weather', arguments: '' },
        { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{"city":' },
        { type: 'tool_call', choice: 0, index: 1, id: null, name: 'get_time', arguments: '{}' },
        // A late piece of the first call still lands in its own item.
        { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '"Paris"}' },
        { type: 'finish', choice: 0, reason: 'tool_calls' },
      ]) + r.finish(usage({ input: 50, output: 20, reasoning: 8 }), null);
    const events = parsed(out);
    expect(events.map((e) => [e.type, e.output_index ?? null])).toEqual([
      ['response.created', null],
      ['response.in_progress', null],
      ['response.output_item.added', 0],
      ['response.reasoning_summary_part.added', 0],
      ['response.reasoning_summary_text.delta', 0],
      ['response.reasoning_summary_text.done', 0],
      ['response.reasoning_summary_part.done', 0],
      ['response.output_item.done', 0],
      ['response.output_item.added', 1],
      ['response.content_part.added', 1],
      ['response.output_text.delta', 1],
      ['response.output_text.done', 1],
      ['response.content_part.done', 1],
      ['response.output_item.done', 1],
      ['response.output_item.added', 2],
      ['response.function_call_arguments.delta', 2],
      ['response.output_item.added', 3],
      ['response.function_call_arguments.delta', 3],
      ['response.function_call_arguments.delta', 2],
      ['response.function_call_arguments.done', 2],
      ['response.output_item.done', 2],
      ['response.function_call_arguments.done', 3],
      ['response.output_item.done', 3],
      ['response.completed', null],
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect((events.at(-1)!.response as { id: string; output: unknown }).output).toEqual([
      { id: 'rs_ab12_0', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Two lookups.' }] },
      { id: 'msg_ab12_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Checking.' }] },
      { id: 'fc_ab12_2', type: 'function_call', status: 'completed', call_id: 'call_A', name: 'get_weather', arguments: '{"city":"Paris"}' },
      // A call its provider gave no id gets one of ours.
      { id: 'fc_ab12_3', type: 'function_call', status: 'completed', call_id: 'call_ab12_1', name: 'get_time', arguments: '{}' },
    ]);
    expect((events.at(-1)!.response as { id: string }).id).toBe('resp_up');
    const { built, final } = accumulated(out);
    expect(built?.output).toEqual((final as Response).output);
  });

  it('renders a refusal after text as a second content part of the same message', () => {
    const r = renderer();
    const out = r.events([{ type: 'text', choice: 0, text: 'Well.' }, { type: 'refusal', choice: 0, text: 'No.' }]) + r.finish(usage({}), null);
    const events = parsed(out);
    expect(events.filter((e) => e.type.startsWith('response.refusal') || e.type.startsWith('response.content_part')).map((e) => [e.type, e.content_index])).toEqual([
      ['response.content_part.added', 0],
      ['response.content_part.done', 0],
      ['response.content_part.added', 1],
      ['response.refusal.delta', 1],
      ['response.refusal.done', 1],
      ['response.content_part.done', 1],
    ]);
    const { built, final } = accumulated(out);
    expect(built?.output).toEqual((final as Response).output);
  });

  it('ends an answer cut at the hold or the output cap as incomplete, its open items incomplete', () => {
    const cut = renderer();
    const events = parsed(cut.events([{ type: 'text', choice: 0, text: 'The novel' }]) + cut.finish(usage({ input: 3, output: 16 }), 'length'));
    const last = events.at(-1)!;
    expect([last.type, (last.response as Record<string, unknown>).status, (last.response as Record<string, unknown>).incomplete_details, events.at(-2)!.item]).toEqual([
      'response.incomplete',
      'incomplete',
      { reason: 'max_output_tokens' },
      { id: 'msg_ab12_0', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'The novel' }] },
    ]);
    const filtered = renderer();
    const ended = parsed(filtered.events([{ type: 'text', choice: 0, text: 'x' }, { type: 'finish', choice: 0, reason: 'content_filter' }]) + filtered.finish(usage({}), null)).at(-1)!;
    expect([ended.type, (ended.response as Record<string, unknown>).incomplete_details]).toEqual(['response.incomplete', { reason: 'content_filter' }]);
  });

  it('starts and completes an answer with no content at all', () => {
    const r = renderer();
    expect(parsed(r.finish(usage({ input: 4 }), null)).map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });

  it('ends a broken stream with response.failed, then an error event in our words', () => {
    const r = renderer();
    const out = r.events([{ type: 'text', choice: 0, text: 'Once' }, { type: 'tool_call', choice: 0, index: 0, id: 'c', name: 'f', arguments: '{' }]) + r.fail(new GatewayError('upstream_error', 'The provider failed while streaming; the answer is incomplete.'));
    const events = parsed(out);
    expect(events.slice(-2)).toEqual([
      {
        type: 'response.failed',
        sequence_number: events.length - 2,
        response: response('resp_ab12', 'gpt-public', NOW, 'failed', [
          // The message closed when the call began; the call was still open when the stream broke.
          { id: 'msg_ab12_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Once' }] },
          { id: 'fc_ab12_1', type: 'function_call', status: 'incomplete', call_id: 'c', name: 'f', arguments: '{' },
        ], { error: { code: 'server_error', message: 'The provider failed while streaming; the answer is incomplete.' } }),
      },
      { type: 'error', sequence_number: events.length - 1, code: 'upstream_error', message: 'The provider failed while streaming; the answer is incomplete.', param: null },
    ]);
  });

  it('ignores other choices, usage and error events, and pieces of calls that never started', () => {
    const r = renderer();
    expect(
      r.events([
        { type: 'text', choice: 1, text: 'other' },
        { type: 'usage', usage: usage({ input: 1 }) },
        { type: 'error', message: 'x', code: null },
        { type: 'tool_call', choice: 0, index: 3, id: null, name: null, arguments: '{}' },
        { type: 'reasoning', choice: 0, text: '', redacted: 'blob' },
      ]),
    ).toBe('');
  });

  it.each(['responses-stream-text.sse', 'responses-stream-function-calls.sse', 'responses-stream-reasoning.sse', 'responses-stream-refusal.sse', 'responses-stream-incomplete.sse'])(
    'renders the canonical events of %s into a stream the OpenAI SDK accumulates into exactly its final response',
    (file) => {
      const events = eventsOf(decode(fixture(file)));
      const r = renderer();
      const out = r.events(events) + r.finish(finalUsage(events), null);
      const { built, final } = accumulated(out);
      expect(built?.output).toEqual((final as Response).output);
      // The billed usage, as the provider reported it.
      const reported = (JSON.parse(fixture(file).trim().split('\n').at(-1)!.slice('data: '.length)) as { response: { usage: unknown } }).response.usage;
      expect((final as Response).usage).toEqual(reported);
    },
  );

  it('renders any canonical event sequence into events the SDK accumulates consistently (property)', () => {
    const event = fc.oneof(
      fc.record({ type: fc.constant('text' as const), choice: fc.constant(0), text: fc.string({ minLength: 1, maxLength: 5 }) }),
      fc.record({ type: fc.constant('refusal' as const), choice: fc.constant(0), text: fc.string({ minLength: 1, maxLength: 5 }) }),
      fc.record({ type: fc.constant('reasoning' as const), choice: fc.constant(0), text: fc.string({ maxLength: 5 }) }),
      fc.record({ type: fc.constant('tool_call' as const), choice: fc.constant(0), index: fc.nat(3), id: fc.option(fc.constantFrom('call_1', 'call_2')), name: fc.option(fc.constantFrom('f', 'g')), arguments: fc.string({ maxLength: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 25 }), fc.constantFrom(null, 'length' as const), (events, cut) => {
        const r = renderer();
        const out = r.events(events) + r.finish(usage({ input: 1, output: 1 }), cut);
        const all = parsed(out);
        expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
        const { built, final } = accumulated(out);
        expect(built?.output).toEqual((final as Response).output);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Responses stream rendering: the passthrough path', () => {
  const passAll = (text: string) => {
    const r = renderer();
    const frames = decode(text);
    const out = frames.map((f) => (f.raw === null ? '' : r.passthrough(f.raw, f.events))).join('');
    return { r, frames, out };
  };

  it('forwards a provider’s stream event for event, adding nothing once it completed', () => {
    const text = fixture('responses-stream-function-calls.sse');
    const { r, out } = passAll(text);
    expect(out + r.finish(usage({ input: 82, output: 47 }), null)).toBe(text);
  });

  it('holds back the provider’s errors: the pipeline renders its own', () => {
    const { out } = passAll(fixture('responses-stream-error-event.sse'));
    expect(parsed(out).map((e) => e.type)).toEqual(['response.created']);
    expect(passAll(fixture('responses-stream-failed.sse')).out).not.toContain('response.failed');
  });

  it('ends a stream cut at the hold: open items done with what was sent, then response.incomplete numbered after the provider', () => {
    const text = fixture('responses-stream-text.sse');
    const frames = decode(text).slice(0, 5);
    const r = renderer();
    const out = frames.map((f) => r.passthrough(f.raw!, f.events)).join('') + r.finish(usage({ input: 21, output: 1 }), 'length');
    const events = parsed(out);
    expect(events.slice(5)).toEqual([
      {
        type: 'response.output_item.done',
        sequence_number: 5,
        output_index: 0,
        item: { id: 'msg_68b1c0ffee0001text', type: 'message', status: 'incomplete', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Bonjour' }], role: 'assistant' },
      },
      {
        type: 'response.incomplete',
        sequence_number: 6,
        // The response the provider created, ended.
        response: {
          ...parsed(text)[0]!.response as object,
          status: 'incomplete',
          incomplete_details: { reason: 'max_output_tokens' },
          error: null,
          output: [{ id: 'msg_68b1c0ffee0001text', type: 'message', status: 'incomplete', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Bonjour' }], role: 'assistant' }],
          usage: { input_tokens: 21, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 22 },
        },
      },
    ]);
    const { built, final } = accumulated(out);
    expect(built?.output).toEqual((final as Response).output);
  });

  it('ends a stream broken after content with response.failed holding what was sent, then our error', () => {
    const text = fixture('responses-stream-failed.sse');
    const frames = decode(text);
    const r = renderer();
    const out = frames.filter((f) => !f.events.some((e) => e.type === 'error')).map((f) => (f.raw === null ? '' : r.passthrough(f.raw, f.events))).join('') + r.fail(new GatewayError('upstream_error', 'Broken.'));
    const events = parsed(out);
    expect(events.slice(-3).map((e) => [e.type, e.sequence_number])).toEqual([
      ['response.output_item.done', 5],
      ['response.failed', 6],
      ['error', 7],
    ]);
    expect(events.at(-2)!.response).toEqual({
      ...parsed(text)[0]!.response as object,
      status: 'failed',
      incomplete_details: null,
      error: { code: 'server_error', message: 'Broken.' },
      output: [{ id: 'msg_68b1c0ffee0005fail', type: 'message', status: 'incomplete', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Once upon' }], role: 'assistant' }],
      usage: null,
    });
  });

  it('passes nothing that is not a Responses event: garbage, non-objects, and unsafe event names', () => {
    const r = renderer();
    expect(['not json', '[1]', '{"type":5}', '{"type":"x\\ny"}', '{"type":"Response.Created"}', '{}'].map((raw) => r.passthrough(raw, []))).toEqual(['', '', '', '', '', '']);
  });

  it('never throws on hostile events, and always ends with one lifecycle event of its own (property)', () => {
    const type = fc.constantFrom(
      'response.created', 'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.output_text.delta',
      'response.refusal.delta', 'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.function_call_arguments.delta', 'x.y',
    );
    const event = fc.record(
      { type, sequence_number: fc.oneof(fc.nat(50), fc.jsonValue()), output_index: fc.oneof(fc.nat(3), fc.jsonValue()), content_index: fc.oneof(fc.nat(2), fc.jsonValue()), summary_index: fc.nat(2), delta: fc.jsonValue(), item: fc.jsonValue(), part: fc.jsonValue(), response: fc.jsonValue() },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), fc.constantFrom(null, 'length' as const), (events, cut) => {
        const r = renderer();
        const out = events.map((e) => r.passthrough(JSON.stringify(e), [])).join('') + r.finish(usage({ input: 1 }), cut);
        expect(parsed(out).at(-1)!.type).toBe(cut === null ? 'response.completed' : 'response.incomplete');
      }),
      { numRuns: 300 },
    );
  });

  it('completes a stream whose provider never sent its own end, from the response it created', () => {
    const frames = decode(fixture('responses-stream-cut-mid-event.sse'));
    const r = renderer();
    const out = frames.map((f) => (f.raw === null ? '' : r.passthrough(f.raw, f.events))).join('') + r.finish(usage({ input: 2, output: 1 }), null);
    expect(parsed(out).slice(-2).map((e) => [e.type, e.sequence_number, (e.response as { status?: string } | undefined)?.status ?? (e.item as { status: string }).status])).toEqual([
      ['response.output_item.done', 5, 'completed'],
      ['response.completed', 6, 'completed'],
    ]);
  });
});
