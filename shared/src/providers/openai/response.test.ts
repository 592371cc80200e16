import { afterEach, describe, expect, it, vi } from 'vitest';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { openAIAdapter } from './adapter.ts';
import { MAX_CHOICES, MAX_TOOL_CALLS } from './response.ts';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const parse = (value: unknown) => openAIAdapter.parseChatResponse(bytes(value));

const completion = {
  id: 'chatcmpl-123',
  object: 'chat.completion',
  created: 1_741_570_283,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage: {
    prompt_tokens: 1117,
    completion_tokens: 46,
    total_tokens: 1163,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 10, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_fc9f1d7035',
};

afterEach(() => {
  vi.useRealTimers();
});

describe('OpenAI adapter: parseChatResponse', () => {
  it('reads a whole answer, usage split into disjoint buckets', () => {
    expect(parse(completion)).toEqual({
      id: 'chatcmpl-123',
      model: 'gpt-4o-2024-08-06',
      created: 1_741_570_283,
      choices: [{ index: 0, text: 'Hello there.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' }],
      // prompt_tokens includes cached_tokens; completion_tokens includes reasoning_tokens.
      usage: usage({ input: 93, cachedInput: 1024, output: 36, reasoning: 10 }),
    });
  });

  it('reads tool calls in order, with finish reason tool_calls', () => {
    const answer = parse({
      ...completion,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
    });
    expect(answer.choices).toEqual([
      {
        index: 0, text: null, reasoning: null, refusal: null, finishReason: 'tool_calls',
        toolCalls: [
          { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris"}' },
          { id: 'call_b', name: 'get_time', arguments: '{}' },
        ],
      },
    ]);
  });

  it('reads reasoning_content, or reasoning, and refusals', () => {
    const answer = parse({
      ...completion,
      choices: [
        { index: 0, message: { content: '42', reasoning_content: 'Six times seven.' }, finish_reason: 'stop' },
        { index: 1, message: { content: '42', reasoning: 'Thought about it.' }, finish_reason: 'stop' },
        { index: 2, message: { content: null, refusal: "I can't help with that." }, finish_reason: 'stop' },
      ],
    });
    expect(answer.choices.map((c) => [c.index, c.text, c.reasoning, c.refusal])).toEqual([
      [0, '42', 'Six times seven.', null],
      [1, '42', 'Thought about it.', null],
      [2, null, null, "I can't help with that."],
    ]);
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['eos', 'stop'],
    [null, 'stop'],
    [undefined, 'stop'],
  ])('reads finish reason %j as %s', (reason, expected) => {
    expect(parse({ ...completion, choices: [{ index: 0, message: { content: 'x' }, finish_reason: reason }] }).choices[0]!.finishReason).toBe(expected);
  });

  it('reads no usage as null, and usage whose totals are not token counts as null', () => {
    expect(parse({ ...completion, usage: undefined }).usage).toBeNull();
    expect(parse({ ...completion, usage: null }).usage).toBeNull();
    expect(parse({ ...completion, usage: { prompt_tokens: '10', completion_tokens: 2 } }).usage).toBeNull();
    expect(parse({ ...completion, usage: { prompt_tokens: 10 } }).usage).toBeNull();
  });

  it('never lets cached or reasoning tokens exceed their totals', () => {
    const answer = parse({
      ...completion,
      usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 50 }, completion_tokens_details: { reasoning_tokens: 9 } },
    });
    expect(answer.usage).toEqual(usage({ cachedInput: 10, reasoning: 5 }));
  });

  it('reads several choices by their index, defaulting a missing or absurd index to the position', () => {
    const pairs = (choices: unknown[]): unknown => parse({ ...completion, choices }).choices.map((c) => [c.index, c.text]);
    expect(pairs([{ index: 1, message: { content: 'b' } }, { index: 0, message: { content: 'a' } }])).toEqual([[1, 'b'], [0, 'a']]);
    expect(pairs([{ message: { content: 'a' } }, { message: { content: 'b' } }])).toEqual([[0, 'a'], [1, 'b']]);
    expect(pairs([{ index: 1e9, message: { content: 'a' } }, { index: -1, message: { content: 'b' } }])).toEqual([[0, 'a'], [1, 'b']]);
  });

  it('skips tool calls without a name, names missing ids, defaults missing arguments', () => {
    const answer = parse({
      ...completion,
      choices: [{ index: 0, message: { tool_calls: [{ id: 'x', function: { arguments: '{}' } }, { function: { name: 'f' } }, null, 5, { id: 'y', function: { name: 5 } }, { id: 'z', function: { name: 'g', arguments: {} } }] } }],
    });
    expect(answer.choices[0]!.toolCalls).toEqual([
      { id: 'call_0', name: 'f', arguments: '' },
      { id: 'z', name: 'g', arguments: '' },
    ]);
  });

  it('believes at most MAX_CHOICES choices and MAX_TOOL_CALLS tool calls', () => {
    const calls = Array.from({ length: 500 }, (_, i) => ({ id: `c${i}`, function: { name: 'f', arguments: '' } }));
    const answer = parse({ ...completion, choices: Array.from({ length: 500 }, (_, i) => ({ index: i, message: { content: 'x', tool_calls: calls } })) });
    expect(answer.choices).toHaveLength(MAX_CHOICES);
    expect(answer.choices[0]!.toolCalls).toHaveLength(MAX_TOOL_CALLS);
  });

  it('reads a missing id or model as empty, clamps the creation time, and uses now when it is missing', () => {
    vi.useFakeTimers({ now: 1_750_000_000_500 });
    expect(parse({ choices: [] })).toEqual({ id: '', model: '', created: 1_750_000_000, choices: [], usage: null });
    expect(parse({ ...completion, created: -1 }).created).toBe(0);
    expect(parse({ ...completion, created: 12.9 }).created).toBe(12);
    expect(parse({ ...completion, id: 5, model: null }).id).toBe('');
  });

  it.each([
    ['choices that are not a list', { ...completion, choices: 5 }],
    ['choices that are null', { ...completion, choices: [null] }],
    ['a message that is not an object', { ...completion, choices: [{ index: 0, message: 'hi' }] }],
    ['content that is not a string', { ...completion, choices: [{ index: 0, message: { content: ['hi'], refusal: 5, reasoning_content: {} } }] }],
  ])('reads %s as no content, without throwing', (_what, value) => {
    const answer = parse(value);
    expect(answer.choices.every((c) => c.text === null && c.reasoning === null && c.refusal === null && c.toolCalls.length === 0)).toBe(true);
  });

  it.each([
    ['not JSON', '<html>Bad gateway</html>'],
    ['empty', ''],
    ['cut short', JSON.stringify(completion).slice(0, 100)],
    ['a JSON list', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"ok"'],
  ])('refuses a body that is %s with UpstreamFormatError', (_what, body) => {
    expect(() => openAIAdapter.parseChatResponse(bytes(body))).toThrow(UpstreamFormatError);
  });
});

describe('OpenAI adapter: describeError', () => {
  it('reads the OpenAI error shape, sanitised', () => {
    const body = bytes({ error: { message: 'Incorrect API key provided: gsk_0123456789abcdefABCDEF0123.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    expect(openAIAdapter.describeError(401, body)).toBe('HTTP 401: invalid_request_error / invalid_api_key / Incorrect API key provided: [redacted]');
  });
});
