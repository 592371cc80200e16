import { GatewayError, usage } from '@tollgate/shared';
import { describe, expect, it } from 'vitest';
import { OpenAIStreamRenderer, renderOpenAIResponse } from './render.ts';

const data = (text: string) => text.split('\n\n').filter(Boolean).map((e) => e.slice(6)).map((d) => (d === '[DONE]' ? d : JSON.parse(d)));

describe('OpenAI stream rendering', () => {
  it('renders canonical events as chat.completion.chunk events, role first, usage and [DONE] last', () => {
    const r = new OpenAIStreamRenderer({ requestId: 'req_1', includeUsage: true, model: 'm' });
    const out = r.events([
      { type: 'start', id: 'chatcmpl-9', model: 'up-model', created: 100 },
      { type: 'text', choice: 0, text: 'Hi' },
      { type: 'tool_call', choice: 0, index: 0, id: 'call_1', name: 'f', arguments: '{"a"' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: ':1}' },
      { type: 'finish', choice: 0, reason: 'tool_calls' },
    ]) + r.finish(usage({ input: 7, cachedInput: 3, output: 4, reasoning: 1 }), null);
    const base = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 100, model: 'up-model' };
    expect(data(out)).toEqual([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, logprobs: null, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }, logprobs: null, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, logprobs: null, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }] },
      { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 3 }, completion_tokens_details: { reasoning_tokens: 1 } } },
      '[DONE]',
    ]);
  });

  it('renders reasoning text as reasoning_content, and nothing for a reasoning event that only closes a signed block', () => {
    const r = new OpenAIStreamRenderer({ requestId: 'req_r', includeUsage: false, model: 'm' });
    // As an Anthropic upstream's thinking arrives: a block whose signature comes first, text, its signature, a redacted block.
    const out = r.events([
      { type: 'start', id: 'msg_1', model: 'claude', created: 7 },
      { type: 'reasoning', choice: 0, text: '', signature: 'sig-empty-block' },
      { type: 'reasoning', choice: 0, text: 'Paris is in France.' },
      { type: 'reasoning', choice: 0, text: '', signature: 'sig-of-the-block' },
      { type: 'reasoning', choice: 0, text: '', redacted: 'encrypted-thoughts' },
      { type: 'text', choice: 0, text: 'Paris.' },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
    const base = { id: 'msg_1', object: 'chat.completion.chunk', created: 7, model: 'claude' };
    expect(data(out)).toEqual([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'Paris is in France.' }, logprobs: null, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: 'Paris.' }, logprobs: null, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] },
    ]);
  });

  it('finishes choices left open when the gateway cut the stream, with length', () => {
    const r = new OpenAIStreamRenderer({ requestId: 'req_2', includeUsage: false, model: 'm' });
    const out = data(r.events([{ type: 'text', choice: 0, text: 'a' }, { type: 'text', choice: 1, text: 'b' }, { type: 'finish', choice: 1, reason: 'stop' }]) + r.finish(usage({}), 'length'));
    expect(out.filter((c) => c !== '[DONE]').map((c) => (c as { choices: { index: number; finish_reason: string | null }[] }).choices[0]).filter((c) => c!.finish_reason)).toEqual([
      expect.objectContaining({ index: 1, finish_reason: 'stop' }),
      expect.objectContaining({ index: 0, finish_reason: 'length' }),
    ]);
    expect(out.at(-1)).toBe('[DONE]');
  });

  it('passes provider frames through, dropping only a usage-only frame nobody asked for', () => {
    const quiet = new OpenAIStreamRenderer({ requestId: 'r', includeUsage: false, model: 'm' });
    expect(quiet.passthrough('{"choices":[]}', [{ type: 'usage', usage: usage({ input: 1 }) }])).toBe('');
    expect(quiet.passthrough('{"x":1}', [{ type: 'text', choice: 0, text: 'y' }])).toBe('data: {"x":1}\n\n');
    const asking = new OpenAIStreamRenderer({ requestId: 'r', includeUsage: true, model: 'm' });
    expect(asking.passthrough('{"choices":[]}', [{ type: 'usage', usage: usage({ input: 1 }) }])).toBe('data: {"choices":[]}\n\n');
    // The provider's usage went through: the end adds no second one.
    expect(asking.finish(usage({ input: 1 }), null)).toBe('data: [DONE]\n\n');
  });

  it('ends a broken stream with our error and a clean end', () => {
    const r = new OpenAIStreamRenderer({ requestId: 'r', includeUsage: false, model: 'm' });
    expect(r.fail(new GatewayError('upstream_error', 'broke'))).toBe('data: {"error":{"message":"broke","type":"api_error","code":"upstream_error","param":null}}\n\ndata: [DONE]\n\n');
  });

  it('renders a whole answer’s reasoning as reasoning_content only when it has text, as the stream does', () => {
    const choice = (reasoning: string | null) => ({ index: 0, text: 'Paris.', reasoning, refusal: null, toolCalls: [], finishReason: 'stop' as const });
    const message = (reasoning: string | null) =>
      (JSON.parse(renderOpenAIResponse({ id: 'x', model: 'm', created: 1, usage: null, choices: [choice(reasoning)] }, usage({}), { requestId: 'r', includeUsage: false, model: 'm' })) as {
        choices: { message: unknown }[];
      }).choices[0]!.message;
    expect([message('In France.'), message(''), message(null)]).toEqual([
      { role: 'assistant', content: 'Paris.', refusal: null, reasoning_content: 'In France.' },
      { role: 'assistant', content: 'Paris.', refusal: null },
      { role: 'assistant', content: 'Paris.', refusal: null },
    ]);
  });

  it('renders a whole answer with the billed usage, naming the routed model when the provider names none', () => {
    const body = JSON.parse(
      renderOpenAIResponse(
        { id: '', model: '', created: 5, usage: null, choices: [{ index: 0, text: 'ok', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' }] },
        usage({ input: 2, output: 1 }),
        { requestId: 'req_3', includeUsage: true, model: 'public-m' },
      ),
    );
    expect(body).toEqual({
      id: 'chatcmpl-req_3', object: 'chat.completion', created: 5, model: 'public-m',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
  });
});
