import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterFor, GatewayError, usage, type DecodedFrame, type StreamEvent, type Usage } from '@tollgate/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { anthropicMessagesCodec } from './index.ts';
import type { AnthropicStreamRenderer } from './stream.ts';

const FIXTURES = join(import.meta.dirname, '../../../../shared/src/providers/anthropic/__fixtures__');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const renderer = (): AnthropicStreamRenderer => anthropicMessagesCodec.newStreamRenderer!({ requestId: 'req_1', includeUsage: true, model: 'claude-public' }) as AnthropicStreamRenderer;

/** One expected SSE event. */
const ev = (name: string, payload: Record<string, unknown>): string => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...payload })}\n\n`;
const start = (index: number, block: Record<string, unknown>) => ev('content_block_start', { index, content_block: block });
const delta = (index: number, d: Record<string, unknown>) => ev('content_block_delta', { index, delta: d });
const stop = (index: number) => ev('content_block_stop', { index });
const messageStart = (id: string, model: string, u: Record<string, number>) =>
  ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: u } });
const messageDelta = (stopReason: string, u: Record<string, number>) => ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: u });
const messageStop = ev('message_stop', {});
const counts = (input: number, output: number, cacheWrite = 0, cacheRead = 0) => ({ input_tokens: input, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead, output_tokens: output });

function decode(text: string): DecodedFrame[] {
  const decoder = adapterFor('anthropic')!.newStreamDecoder({ maxFrameChars: 1 << 20 });
  return [...decoder.push(new TextEncoder().encode(text)), ...decoder.end()];
}
const eventsOf = (frames: DecodedFrame[]): StreamEvent[] => frames.flatMap((f) => f.events);
const finalUsage = (events: StreamEvent[]): Usage => events.reduce<Usage>((found, e) => (e.type === 'usage' ? e.usage : found), usage({}));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_750_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Anthropic stream rendering', () => {
  it('renders text and two tool calls as numbered content blocks, and ends with the billed usage', () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'msg_01Up', model: 'claude-x', created: 1 },
        { type: 'usage', usage: usage({ input: 611, output: 3 }) },
        { type: 'text', choice: 0, text: "I'll look up both." },
        { type: 'tool_call', choice: 0, index: 0, id: 'toolu_A', name: 'get_weather', arguments: '' },
        { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{"lo' },
        { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: 'cation":"Paris"}' },
        { type: 'tool_call', choice: 0, index: 1, id: 'call_B', name: 'get_local_time', arguments: '{}' },
        { type: 'finish', choice: 0, reason: 'tool_calls' },
        { type: 'usage', usage: usage({ input: 611, output: 104 }) },
      ]) + r.finish(usage({ input: 611, output: 104 }), null);
    expect(out).toBe(
      messageStart('msg_01Up', 'claude-x', counts(611, 3)) +
        start(0, { type: 'text', text: '' }) +
        delta(0, { type: 'text_delta', text: "I'll look up both." }) +
        stop(0) +
        start(1, { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: {} }) +
        delta(1, { type: 'input_json_delta', partial_json: '{"lo' }) +
        delta(1, { type: 'input_json_delta', partial_json: 'cation":"Paris"}' }) +
        stop(1) +
        start(2, { type: 'tool_use', id: 'call_B', name: 'get_local_time', input: {} }) +
        delta(2, { type: 'input_json_delta', partial_json: '{}' }) +
        stop(2) +
        messageDelta('tool_use', counts(611, 104)) +
        messageStop,
    );
  });

  it('renders thinking with its signature, redacted thinking, then text', () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'msg_T', model: 'claude-x', created: 1 },
        { type: 'reasoning', choice: 0, text: 'Compare' },
        { type: 'reasoning', choice: 0, text: ' decimals.' },
        { type: 'reasoning', choice: 0, text: '', signature: 'sig-1' },
        { type: 'reasoning', choice: 0, text: '', redacted: 'opaque-1' },
        { type: 'text', choice: 0, text: '9.9' },
        { type: 'finish', choice: 0, reason: 'stop' },
      ]) + r.finish(usage({ input: 48, output: 200, reasoning: 40 }), null);
    expect(out).toBe(
      messageStart('msg_T', 'claude-x', counts(0, 0)) +
        start(0, { type: 'thinking', thinking: '', signature: '' }) +
        delta(0, { type: 'thinking_delta', thinking: 'Compare' }) +
        delta(0, { type: 'thinking_delta', thinking: ' decimals.' }) +
        delta(0, { type: 'signature_delta', signature: 'sig-1' }) +
        stop(0) +
        start(1, { type: 'redacted_thinking', data: 'opaque-1' }) +
        stop(1) +
        start(2, { type: 'text', text: '' }) +
        delta(2, { type: 'text_delta', text: '9.9' }) +
        stop(2) +
        messageDelta('end_turn', counts(48, 240)) +
        messageStop,
    );
  });

  it("renders another provider's stream: its id, usage only at the end, other choices left out, a refusal as text", () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'chatcmpl-9', model: 'gpt-x', created: 1 },
        { type: 'text', choice: 0, text: 'No.' },
        { type: 'text', choice: 1, text: 'other choice' },
        { type: 'refusal', choice: 0, text: " I can't." },
        { type: 'finish', choice: 0, reason: 'content_filter' },
        { type: 'error', message: 'ignored: the pipeline renders errors', code: null },
      ]) +
      r.events([{ type: 'usage', usage: usage({ input: 7, cachedInput: 3, output: 2 }) }]) +
      r.finish(usage({ input: 7, cachedInput: 3, output: 2 }), null);
    expect(out).toBe(
      messageStart('chatcmpl-9', 'gpt-x', counts(0, 0)) +
        start(0, { type: 'text', text: '' }) +
        delta(0, { type: 'text_delta', text: 'No.' }) +
        delta(0, { type: 'text_delta', text: " I can't." }) +
        stop(0) +
        messageDelta('refusal', counts(7, 2, 0, 3)) +
        messageStop,
    );
  });

  it('closes the open block and says max_tokens when the gateway cuts the stream', () => {
    const r = renderer();
    const out = r.events([{ type: 'text', choice: 0, text: 'Once' }]) + r.finish(usage({ input: 1, output: 9 }), 'length');
    expect(out).toBe(
      messageStart('msg_req_1', 'claude-public', counts(0, 0)) + start(0, { type: 'text', text: '' }) + delta(0, { type: 'text_delta', text: 'Once' }) + stop(0) + messageDelta('max_tokens', counts(1, 9)) + messageStop,
    );
  });

  it('names the stop sequence that ended the answer in message_delta', () => {
    const r = renderer();
    const out =
      r.events([
        { type: 'start', id: 'msg_01Up', model: 'claude-x', created: 1 },
        { type: 'usage', usage: usage({ input: 9, output: 1 }) },
        { type: 'text', choice: 0, text: 'Paris' },
        { type: 'finish', choice: 0, reason: 'stop', stopSequence: '###' },
      ]) + r.finish(usage({ input: 9, output: 2 }), null);
    expect(out).toBe(
      messageStart('msg_01Up', 'claude-x', counts(9, 1)) +
        start(0, { type: 'text', text: '' }) +
        delta(0, { type: 'text_delta', text: 'Paris' }) +
        stop(0) +
        ev('message_delta', { delta: { stop_reason: 'stop_sequence', stop_sequence: '###' }, usage: counts(9, 2) }) +
        messageStop,
    );
  });

  it('ends an empty answer with a whole, empty message', () => {
    expect(renderer().finish(usage({ input: 4 }), null)).toBe(messageStart('msg_req_1', 'claude-public', counts(4, 0)) + messageDelta('end_turn', counts(4, 0)) + messageStop);
  });

  it('ignores a piece of a tool call whose start never came, and sends a late piece to its own block', () => {
    const r = renderer();
    const out = r.events([
      { type: 'tool_call', choice: 0, index: 5, id: null, name: null, arguments: '{"orphan":1}' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: 'f', arguments: '' },
      { type: 'text', choice: 0, text: 'between' },
      { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{}' },
    ]);
    expect(out).toBe(
      messageStart('msg_req_1', 'claude-public', counts(0, 0)) +
        start(0, { type: 'tool_use', id: 'toolu_req_1_0', name: 'f', input: {} }) +
        stop(0) +
        start(1, { type: 'text', text: '' }) +
        delta(1, { type: 'text_delta', text: 'between' }) +
        delta(0, { type: 'input_json_delta', partial_json: '{}' }),
    );
  });

  it('opens no block for a reasoning event that carries nothing', () => {
    const r = renderer();
    expect(r.events([{ type: 'reasoning', choice: 0, text: '' }, { type: 'reasoning', choice: 1, text: 'other choice' }])).toBe('');
  });

  it('ends a broken stream with an Anthropic error event', () => {
    expect(renderer().fail(new GatewayError('upstream_error', 'The provider failed while streaming; the answer is incomplete.'))).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The provider failed while streaming; the answer is incomplete."}}\n\n',
    );
  });
});

describe('Anthropic stream passthrough', () => {
  const complete = ['messages-stream-text.sse', 'messages-stream-tool-use.sse', 'messages-stream-thinking.sse', 'messages-stream-prompt-cache.sse'];

  /** What the relay does on the passthrough path: every frame with raw data, then the end. */
  function passThrough(text: string, cut: 'length' | null = null, upTo = Number.POSITIVE_INFINITY): string {
    const r = renderer();
    const frames = decode(text);
    const passed = frames.slice(0, upTo).filter((f) => f.raw !== null);
    return passed.map((f) => r.passthrough(f.raw!, f.events)).join('') + r.finish(finalUsage(eventsOf(frames)), cut);
  }

  it.each(complete)('forwards %s as it came, without its pings', (file) => {
    const text = fixture(file);
    expect(passThrough(text)).toBe(text.replaceAll('event: ping\ndata: {"type": "ping"}\n\n', ''));
  });

  it('closes the open blocks and says max_tokens when the gateway cuts a passed-through stream', () => {
    // message_start, content_block_start, ping, one delta.
    expect(passThrough(fixture('messages-stream-text.sse'), 'length', 4)).toBe(
      fixture('messages-stream-text.sse').split('event: ping')[0] +
        delta(0, { type: 'text_delta', text: 'Bonjour' }) +
        stop(0) +
        messageDelta('max_tokens', counts(19, 8)) +
        messageStop,
    );
  });

  it('passes nothing a client could misread: half events, unsafe event names, a second start, the end, errors', () => {
    const r = renderer();
    expect(r.passthrough('{"type":"message_start","message":{}}', [])).toBe('event: message_start\ndata: {"type":"message_start","message":{}}\n\n');
    expect(r.passthrough('{"type":"message_start","message":{}}', [])).toBe('');
    expect(r.passthrough('{"type":"content_block_delta","index":0,"delta":{"type":"text_de', [])).toBe('');
    expect(r.passthrough('{"type":"x\\n\\ndata: injected"}', [])).toBe('');
    expect(r.passthrough('["message_delta"]', [])).toBe('');
    expect(r.passthrough('{"type":"message_stop"}', [])).toBe('');
    expect(r.passthrough('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', [])).toBe('');
    expect(r.passthrough('{"type":"a_future_event","n":1}', [])).toBe('event: a_future_event\ndata: {"type":"a_future_event","n":1}\n\n');
  });

  it.each(complete)('means the same as the general path for %s', (file) => {
    const frames = decode(fixture(file));
    const events = eventsOf(frames);
    const general = renderer();
    const rendered = general.events(events) + general.finish(finalUsage(events), null);
    // Both renderings, read back by a Messages client, give the same events and usage.
    expect(eventsOf(decode(rendered))).toEqual(eventsOf(decode(passThrough(fixture(file)))));
    expect(eventsOf(decode(rendered))).toEqual(events);
  });
});
