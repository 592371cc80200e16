import { decodeUsageEvent, type UsageEvent } from '@tollgate/shared';

/**
 * How long, and how many, settled events are kept to be appended again if the store loses its data:
 * the consumer normally takes an event within milliseconds, so a minute covers its lag many times.
 */
export interface JournalSettings {
  windowMs: number;
  maxEvents: number;
}

export const DEFAULT_JOURNAL: JournalSettings = { windowMs: 60_000, maxEvents: 50_000 };

/** Encoded events are appended to buffers of this size (one event larger than it gets its own). */
const CHUNK_BYTES = 1024 * 1024;

/** ES2024's resizable ArrayBuffer, in Node since 20 (this project's TypeScript lib is ES2023). */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableArrayBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/**
 * A chunk's memory, given back to the system by `freeChunk` at once. A plain buffer let go is freed
 * only when V8 next collects its wrapper, and a data plane at rest after a burst may run no
 * collection for hours: the journal's last minute (tens of MB) would stay resident all that time.
 * Shrinking a resizable ArrayBuffer to nothing returns its pages immediately.
 */
function allocateChunk(bytes: number): Buffer {
  return Buffer.from(new ResizableArrayBuffer(bytes, { maxByteLength: bytes }));
}

function freeChunk(chunk: Buffer): void {
  (chunk.buffer as ResizableArrayBuffer).resize(0);
}

interface Chunk {
  bytes: Buffer;
  used: number;
  /** Per event in the chunk: when it was settled, and where its bytes end. */
  settledAt: number[];
  ends: number[];
}

/**
 * The data plane's journal of recently settled usage events, replayed into a store that restarted
 * empty. The events are kept encoded, in 1 MiB buffers outside the JavaScript heap: kept as
 * objects, a load's last minute (up to 50,000 events) lived through every young-generation
 * collection into the old generation, and the heap it grew stayed after the load (an idle data
 * plane measured 290 MB with the journal of objects, 159 MB without any). A buffer is freed whole
 * once its last event has left the window, and its memory goes back to the system at once.
 */
export class SettlementJournal {
  private chunks: Chunk[] = [];
  /** The oldest live event's index in the first chunk. */
  private first = 0;
  private live = 0;

  constructor(
    private readonly settings: JournalSettings,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  get size(): number {
    return this.live;
  }

  /** Bytes of the buffers the journal holds now. */
  get heldBytes(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.bytes.byteLength;
    return total;
  }

  /** `text`: the event as encodeUsageEvent wrote it for the store (not encoded again here). */
  add(text: string, nowMs: number): void {
    if (this.settings.maxEvents === 0) return;
    const length = Buffer.byteLength(text);
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.used + length > chunk.bytes.length) {
      chunk = { bytes: allocateChunk(Math.max(this.chunkBytes, length)), used: 0, settledAt: [], ends: [] };
      this.chunks.push(chunk);
    }
    chunk.used += chunk.bytes.write(text, chunk.used, 'utf8');
    chunk.settledAt.push(nowMs);
    chunk.ends.push(chunk.used);
    this.live++;
    this.prune(nowMs);
  }

  /** Drops events past the window or the count, oldest first. */
  prune(nowMs: number): void {
    const { windowMs, maxEvents } = this.settings;
    while (this.live > 0) {
      const head = this.chunks[0]!;
      if (this.live <= maxEvents && head.settledAt[this.first]! >= nowMs - windowMs) return;
      this.first++;
      this.live--;
      if (this.first === head.settledAt.length) {
        this.chunks.shift();
        freeChunk(head.bytes);
        this.first = 0;
      }
    }
  }

  /** The events within the window, oldest first, decoded (only a store reset asks for them). */
  events(nowMs: number): UsageEvent[] {
    this.prune(nowMs);
    const out: UsageEvent[] = [];
    this.chunks.forEach((chunk, c) => {
      for (let i = c === 0 ? this.first : 0; i < chunk.ends.length; i++) {
        out.push(decodeUsageEvent(chunk.bytes.toString('utf8', i === 0 ? 0 : chunk.ends[i - 1]!, chunk.ends[i]!)));
      }
    });
    return out;
  }
}
