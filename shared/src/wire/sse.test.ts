import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSseEvent, SseLimitError, SseParser, type SseEvent } from './sse.ts';

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

  it('keeps a CR pending across empty chunks, so CRLF split around them is one line end', () => {
    const empty = new Uint8Array(0);
    // Were the CR forgotten, the LF would end the event early and split "a" and "b" into two.
    expect(parseAll([encode('data: a\r'), empty, encode('\ndata: b\n\n')])).toEqual([{ type: 'data', data: 'a\nb', event: null, id: null }]);
    // CR, then LF alone, then LF: the second LF is the blank line that ends the event.
    const parser = new SseParser();
    expect([...parser.push(encode('data: c\r')), ...parser.push(encode('\n')), ...parser.push(encode('\n'))]).toEqual([
      { type: 'data', data: 'c', event: null, id: null },
    ]);
  });

  it('joins a long line that arrives in many small chunks', () => {
    const payload = 'x'.repeat(1 << 20);
    const bytes = encode(`data: ${payload}\n\n`);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.slice(i * 1000, (i + 1) * 1000));
    expect(parseAll(chunks)).toEqual([{ type: 'data', data: payload, event: null, id: null }]);
  });

  it('parses any line-ending mix the same however it is split, empty chunks included (property)', () => {
    const line = fc.constantFrom('data: {"a":"é"}', 'data:x', 'event: e', 'id: 1', ': note', 'data: [DONE]', '', 'retry: 5');
    const ending = fc.constantFrom('\n', '\r\n', '\r');
    const stream = fc.array(fc.tuple(line, ending), { maxLength: 20 }).map((parts) => encode(parts.map(([l, e]) => l + e).join('')));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, rawCuts) => {
        // Cuts may repeat (empty chunks) and fall inside multi-byte characters.
        const cuts = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))).sort((a, b) => a - b);
        const points = [0, ...cuts, bytes.length];
        expect(parseAll(points.slice(1).map((end, i) => bytes.slice(points[i], end)))).toEqual(parseAll([bytes]));
      }),
      { numRuns: 300 },
    );
  });

  it('bounds what one event may hold, whether one endless line or endless data lines', () => {
    const endlessLine = new SseParser(100);
    expect(endlessLine.push(encode(`data: ${'a'.repeat(60)}`))).toEqual([]);
    expect(() => endlessLine.push(encode('a'.repeat(60)))).toThrow(SseLimitError);
    const endlessEvent = new SseParser(100);
    for (let i = 0; i < 3; i++) endlessEvent.push(encode(`data: ${'b'.repeat(30)}\n`));
    expect(() => endlessEvent.push(encode(`data: ${'b'.repeat(30)}\n`))).toThrow(SseLimitError);
    // Dispatched events no longer count: many events of 90 characters stay under a limit of 100.
    const steady = new SseParser(100);
    for (let i = 0; i < 50; i++) expect(steady.push(encode(`data: ${'c'.repeat(90)}\n\n`))).toHaveLength(1);
  });

  it('bounds an oversized event or line that arrives whole in one chunk, as in pieces', () => {
    expect(() => new SseParser(100).push(encode(`data: ${'d'.repeat(200)}\n\n`))).toThrow(SseLimitError);
    expect(() => new SseParser(100).push(encode(`data: ${'d'.repeat(60)}\ndata: ${'d'.repeat(60)}\n\n`))).toThrow(SseLimitError);
    expect(() => new SseParser(100).push(encode(`: ${'c'.repeat(200)}\n\n`))).toThrow(SseLimitError);
    expect(new SseParser(100).push(encode(`data: ${'d'.repeat(94)}\n\n`))).toEqual([{ type: 'data', data: 'd'.repeat(94), event: null, id: null }]);
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
