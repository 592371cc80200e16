import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usage } from '../../canonical/usage.ts';
import { UpstreamFormatError } from '../adapter.ts';
import { createBedrockAdapter } from './adapter.ts';

const NOW = 1_736_936_430;
const adapter = createBedrockAdapter(() => NOW);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(import.meta.dirname, '__fixtures__', name)));
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const answer = (content: unknown[], extra: Record<string, unknown> = {}): Uint8Array => json({ output: { message: { role: 'assistant', content } }, stopReason: 'end_turn', ...extra });

describe('Bedrock parseChatResponse', () => {
  it('reads text and two tool uses, with their input written back as JSON text', () => {
    expect(adapter.parseChatResponse(fixture('converse-response-tool-use.json'))).toEqual({
      id: '',
      model: '',
      created: NOW,
      choices: [
        {
          index: 0,
          text: 'Let me check both.',
          reasoning: null,
          refusal: null,
          toolCalls: [
            { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
            { id: 'tooluse_Q3a9xYb2TkWc0pLm7NvR1s', name: 'get_local_time', arguments: '{"timezone":"Europe/Paris"}' },
          ],
          finishReason: 'tool_calls',
        },
      ],
      usage: usage({ input: 412, output: 96 }),
    });
  });

  it('reads reasoning, joins text blocks, and splits cached usage into its buckets', () => {
    expect(adapter.parseChatResponse(fixture('converse-response-reasoning-cached.json'))).toEqual({
      id: '',
      model: '',
      created: NOW,
      choices: [{ index: 0, text: '9.9 is larger.', reasoning: 'Compare the decimals: 0.9 > 0.11.', refusal: null, toolCalls: [], finishReason: 'stop' }],
      usage: usage({ input: 24, cachedInput: 1024, cacheWrite: 488, output: 240 }),
    });
  });

  it('reads an answer with no text, no usage and no stop reason as empty, stopped, unmetered', () => {
    expect(adapter.parseChatResponse(json({ output: { message: { role: 'assistant', content: [] } } }))).toEqual({
      id: '',
      model: '',
      created: NOW,
      choices: [{ index: 0, text: null, reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' }],
      usage: null,
    });
  });

  it('names a tool use without an id, gives a tool use without input empty arguments, skips one without a name', () => {
    const parsed = adapter.parseChatResponse(answer([{ toolUse: { name: 'f' } }, { toolUse: { toolUseId: 'x', input: {} } }, { toolUse: { toolUseId: 'y', name: 'g', input: [1] } }]));
    expect(parsed.choices[0]?.toolCalls).toEqual([
      { id: 'tooluse_0', name: 'f', arguments: '{}' },
      { id: 'y', name: 'g', arguments: '[1]' },
    ]);
  });

  it('believes at most 128 tool calls', () => {
    const uses = Array.from({ length: 200 }, (_, i) => ({ toolUse: { toolUseId: `t${i}`, name: 'f', input: {} } }));
    expect(adapter.parseChatResponse(answer(uses)).choices[0]?.toolCalls).toHaveLength(128);
  });

  it('keeps the stop sequence that ended the answer when the model reports it, and only with that stop reason', () => {
    const stopped = (stopReason: string, fields: unknown) => adapter.parseChatResponse(answer([{ text: 'Paris' }], { stopReason, additionalModelResponseFields: fields })).choices[0];
    expect([stopped('stop_sequence', { stop_sequence: '###' }), stopped('stop_sequence', null), stopped('end_turn', { stop_sequence: '###' })].map((c) => [c?.finishReason, c?.stopSequence])).toEqual([
      ['stop', '###'],
      ['stop', undefined],
      ['stop', undefined],
    ]);
  });

  it('maps guardrail and length stops', () => {
    expect(adapter.parseChatResponse(answer([{ text: 'x' }], { stopReason: 'guardrail_intervened' })).choices[0]?.finishReason).toBe('content_filter');
    expect(adapter.parseChatResponse(answer([{ text: 'x' }], { stopReason: 'max_tokens' })).choices[0]?.finishReason).toBe('length');
  });

  it('refuses a body that is not JSON, or JSON that is not a Converse answer', () => {
    expect(() => adapter.parseChatResponse(new TextEncoder().encode('<html>'))).toThrow(new UpstreamFormatError('the provider answered with a body that is not JSON'));
    for (const body of [null, 5, [], {}, { output: null }, { output: { message: 'hi' } }, { message: 'Too many requests' }]) {
      expect(() => adapter.parseChatResponse(json(body))).toThrow(new UpstreamFormatError('the provider answered with JSON that is not a Converse answer'));
    }
  });

  it('never throws anything but UpstreamFormatError on any JSON (property)', () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ output: fc.oneof(fc.record({ message: fc.record({ content: fc.oneof(fc.array(fc.jsonValue()), fc.jsonValue()) }, { requiredKeys: [] }) }), fc.jsonValue()), stopReason: fc.jsonValue(), usage: fc.jsonValue() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(body, (value) => {
        const outcome = ((): unknown => {
          try {
            return adapter.parseChatResponse(json(value));
          } catch (error) {
            return error;
          }
        })();
        expect(outcome instanceof Error ? outcome instanceof UpstreamFormatError : true).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
