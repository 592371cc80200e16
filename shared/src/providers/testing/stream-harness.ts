/**
 * The harness the providers' stream tests share: replaying a recorded capture through a decoder in
 * every chunking, with other line ends, against the frame limits, and what a well-formed canonical
 * event is. Test code only: nothing outside `*.test.ts` imports it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { FinishReason, StreamEvent } from '../../canonical/events.ts';
import type { Usage } from '../../canonical/usage.ts';
import { UpstreamFormatError, type DecodedFrame, type StreamDecoder, type StreamLimits } from '../adapter.ts';

/** Limits no recorded capture comes near. */
export const LIMITS: StreamLimits = { maxFrameChars: 1 << 20 };
/** Limits a test frame of a few thousand characters exceeds. */
export const SMALL_LIMITS: StreamLimits = { maxFrameChars: 1_000 };

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** JSON nested deeper than any recursive reader survives. */
export const DEEP_JSON = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

/** A provider's recorded captures: the files in `__fixtures__` beside its tests (`dir`). */
export function fixtures(dir: string): { read(name: string): Uint8Array; onDisk(extension: string): string[] } {
  const folder = join(dir, '__fixtures__');
  return {
    read: (name) => new Uint8Array(readFileSync(join(folder, name))),
    onDisk: (extension) => readdirSync(folder).filter((f) => f.endsWith(extension)).sort(),
  };
}

/** What makes stream decoders: an adapter, or its completions operation. */
export interface DecoderSource {
  newStreamDecoder(limits: StreamLimits): StreamDecoder;
}

export type DecodeAll = (chunks: Uint8Array[], limits?: StreamLimits) => DecodedFrame[];

/** Feeds the chunks to a new decoder of `source`, then ends it: every frame it gave, in order. */
export function decodeWith(source: DecoderSource): DecodeAll {
  return (chunks, limits = LIMITS) => {
    const decoder = source.newStreamDecoder(limits);
    return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
  };
}

export const eventsOf = (frames: DecodedFrame[]): StreamEvent[] => frames.flatMap((f) => f.events);

/** The usage the last usage event reports (what metering bills), or null when none came. */
export const lastUsage = (events: StreamEvent[]): Usage | null => events.reduce<Usage | null>((found, e) => (e.type === 'usage' ? e.usage : found), null);

/** Cuts bytes at the given points (sorted, repeats allowed: empty chunks). */
export function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  return points.slice(1).map((end, i) => bytes.slice(points[i], end));
}

/** Where to cut a capture: any number of points, each taken modulo its length. */
export const cuts = fc.array(fc.nat(), { maxLength: 40 });

/** The same text with every LF as CRLF. */
export const withCrlf = (bytes: Uint8Array): Uint8Array => encode(new TextDecoder().decode(bytes).replace(/\n/g, '\r\n'));

/** Registers the tests that the whole `captures` list answers for every capture file on disk. */
export function itCoversEveryCapture(dir: string, files: string[], extension = '.sse'): void {
  it('has expectations for every capture on disk', () => {
    expect(fixtures(dir).onDisk(extension)).toEqual([...files].sort());
  });
}

/**
 * Registers the tests every recorded SSE capture must pass whatever its transport: the same frames
 * and the same canonical `events` however its bytes are split, and the same events with CRLF line ends.
 */
export function itReplaysAnySplit(decodeAll: DecodeAll, bytes: Uint8Array, events: StreamEvent[]): void {
  it('gives the same frames for every split of the bytes (property)', () => {
    const whole = decodeAll([bytes]);
    fc.assert(
      fc.property(cuts, (points) => {
        const frames = decodeAll(split(bytes, points));
        expect(frames).toEqual(whole);
        expect(eventsOf(frames)).toEqual(events);
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same events with CRLF line ends', () => {
    expect(eventsOf(decodeAll([withCrlf(bytes)]))).toEqual(events);
  });
}

/** Registers the SSE frame-limit tests: `oversized` holds a frame over SMALL_LIMITS. */
export function itBoundsSseFrames(decodeAll: DecodeAll, oversized: Uint8Array): void {
  it('throws UpstreamFormatError for a frame over the limit, however the bytes arrive (property)', () => {
    fc.assert(
      fc.property(cuts, (points) => {
        expect(() => decodeAll(split(oversized, points), SMALL_LIMITS)).toThrow(UpstreamFormatError);
      }),
      { numRuns: 100 },
    );
  });
}

/** Registers the test that a data line that never ends is refused once it passes SMALL_LIMITS. */
export function itRefusesEndlessLine(source: DecoderSource): void {
  it('throws UpstreamFormatError for a line that never ends', () => {
    const decoder = source.newStreamDecoder(SMALL_LIMITS);
    expect(decoder.push(encode(`data: ${'y'.repeat(600)}`))).toEqual([]);
    expect(() => decoder.push(encode('y'.repeat(600)))).toThrow(UpstreamFormatError);
  });
}

/** Registers the test that `many` (30 text frames, each under SMALL_LIMITS) passes however it arrives. */
export function itPassesFramesUnderLimit(decodeAll: DecodeAll, many: Uint8Array): void {
  it('passes any number of frames each under the limit, however they arrive (property)', () => {
    fc.assert(
      fc.property(cuts, (points) => {
        expect(eventsOf(decodeAll(split(many, points), SMALL_LIMITS)).filter((e) => e.type === 'text')).toHaveLength(30);
      }),
      { numRuns: 50 },
    );
  });
}

/** Registers the test that JSON nested past any recursive reader yields nothing and does not throw. */
export function itSurvivesDeepJson(decodeAll: DecodeAll): void {
  it('survives deeply nested JSON', () => {
    expect(eventsOf(decodeAll([encode(`data: ${DEEP_JSON}\n\n`)]))).toEqual([]);
  });
}

/** A choice or tool-call index a consumer can use: a small non-negative integer. */
export const isIndex = (n: number): boolean => Number.isInteger(n) && n >= 0 && n < 128;

type Check<T extends StreamEvent['type']> = (e: Extract<StreamEvent, { type: T }>) => boolean;

/** What a provider narrows in `wellFormed`: the defaults are an OpenAI-like provider's. */
export interface EventRules {
  /** The provider answers one choice: every event is of choice 0. */
  oneChoice?: boolean;
  /** The finish reasons it may report; by default the four of the OpenAI format. */
  finishReasons?: readonly FinishReason[];
  /** Checks that replace the default one of an event type. */
  start?: Check<'start'>;
  reasoning?: Check<'reasoning'>;
  tool_call?: Check<'tool_call'>;
}

const OPENAI_REASONS: readonly FinishReason[] = ['stop', 'length', 'tool_calls', 'content_filter'];

/** What a consumer of canonical events may rely on, whatever the upstream sent. */
export function wellFormed(e: StreamEvent, rules: EventRules = {}): boolean {
  const choice = (n: number): boolean => (rules.oneChoice ? n === 0 : isIndex(n));
  switch (e.type) {
    case 'start':
      return rules.start ? rules.start(e) : typeof e.id === 'string' && typeof e.model === 'string' && Number.isInteger(e.created) && e.created >= 0;
    case 'reasoning':
      if (rules.reasoning) return rules.reasoning(e);
      return choice(e.choice) && typeof e.text === 'string' && e.text.length > 0;
    case 'text':
    case 'refusal':
      return choice(e.choice) && typeof e.text === 'string' && e.text.length > 0;
    case 'tool_call':
      if (rules.tool_call) return rules.tool_call(e);
      return choice(e.choice) && isIndex(e.index) && (e.id === null || typeof e.id === 'string') && (e.name === null || typeof e.name === 'string') && typeof e.arguments === 'string';
    case 'usage':
      return Object.values(e.usage).every((n) => Number.isSafeInteger(n) && n >= 0);
    case 'finish':
      return choice(e.choice) && (rules.finishReasons ?? OPENAI_REASONS).includes(e.reason);
    case 'error':
      return typeof e.message === 'string' && (e.code === null || typeof e.code === 'string');
  }
}
