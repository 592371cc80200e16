import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSseEvent, SseParser, type SseEvent } from './sse.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function parseAll(chunks: Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

describe('SseParser', () => {
  it('parses data, multi-line data, event names, ids, comments and [DONE]', () => {
    const events = parseAll([encode('data: {"a":1}\n\nevent: delta\nid: 7\ndata: line1\ndata:line2\n\n: ping\n\ndata: [DONE]\n\n')]);
    expect(events).toEqual([
      { type: 'data', data: '{"a":1}', event: null, id: null },
      { type: 'data', data: 'line1\nline2', event: 'delta', id: '7' },
      { type: 'comment', text: 'ping' },
      { type: 'done' },
    ]);
  });

  it('accepts CRLF and CR line endings, split anywhere', () => {
    expect(parseAll([encode('data: a\r'), encode('\n\r\ndata: b\r\r')])).toEqual([
      { type: 'data', data: 'a', event: null, id: null },
      { type: 'data', data: 'b', event: null, id: null },
    ]);
  });

  it('flushes a last event that lacks its blank line', () => {
    expect(parseAll([encode('data: tail')])).toEqual([{ type: 'data', data: 'tail', event: null, id: null }]);
  });

  it('gives the same events for any split of the bytes, multi-byte characters included (property)', () => {
    const stream = encode('data: {"text":"héllo 👋 wörld"}\n\n: c\n\nevent: x\r\ndata: 1\r\ndata: 2\r\n\r\ndata: [DONE]\n\n');
    const whole = parseAll([stream]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const chunks = points.slice(1).map((end, i) => stream.slice(points[i], end));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it('parses a recorded OpenAI capture the same way for any split (property)', () => {
    const capture = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'providers', 'openai', '__fixtures__', 'chat-stream-include-usage.sse')));
    const whole = parseAll([capture]);
    expect(whole.map((e) => e.type)).toEqual(['data', 'data', 'data', 'comment', 'data', 'data', 'data', 'done']);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: capture.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), capture.length];
        expect(parseAll(points.slice(1).map((end, i) => capture.slice(points[i], end)))).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips through formatSseEvent (property)', () => {
    const text = fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s));
    const event = fc.oneof(
      fc.record({ type: fc.constant('data' as const), data: fc.array(text, { minLength: 1, maxLength: 3 }).map((l) => l.join('\n')), event: fc.option(text.filter((s) => s.length > 0 && s.trim() === s), { nil: null }), id: fc.constant(null) }),
      fc.constant({ type: 'done' as const }),
    ).filter((e) => e.type !== 'data' || e.data !== '[DONE]');
    fc.assert(
      fc.property(fc.array(event, { maxLength: 5 }), (events) => {
        expect(parseAll([encode(events.map(formatSseEvent).join(''))])).toEqual(events);
      }),
    );
  });
});
