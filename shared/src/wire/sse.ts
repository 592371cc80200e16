/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream grammar): bytes in, complete
 * events out, whatever the chunk boundaries. Lines end in LF, CRLF or CR; a blank line dispatches;
 * `:` starts a comment; a single space after the field colon is dropped; `data` lines join with LF.
 */
export type SseEvent =
  | { type: 'data'; data: string; event: string | null; id: string | null }
  | { type: 'done' }
  | { type: 'comment'; text: string };

/** An upstream sent more than the parser holds for one event (see SseParser's limit). */
export class SseLimitError extends Error {
  override name = 'SseLimitError';
}

/** Default cap on one event's pending text: far above any real chunk, far below harm. */
const MAX_PENDING_CHARS = 8 * 1024 * 1024;

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** Characters held for the event being read (partial line plus data lines); bounded. */
  private pendingChars = 0;
  /**
   * Pieces of a line not yet ended. Kept as pieces and joined once the line ends, so a long line
   * arriving in many chunks costs linear, not quadratic, time; no piece holds a line terminator.
   */
  private partial: string[] = [];
  /** A CR ended the last chunk: a LF starting the next one belongs to it. */
  private pendingCr = false;
  private data: string[] = [];
  private dataChars = 0;
  private event: string | null = null;
  private id: string | null = null;

  /** `maxPendingChars` bounds memory against an upstream that never ends a line or an event. */
  constructor(private readonly maxPendingChars = MAX_PENDING_CHARS) {}

  /** Throws SseLimitError when one event grows past the limit. */
  push(chunk: Uint8Array): SseEvent[] {
    return this.consume(this.decoder.decode(chunk, { stream: true }));
  }

  /** Flushes a final event that was not followed by a blank line. */
  end(): SseEvent[] {
    const events = this.consume(`${this.decoder.decode()}\n\n`);
    this.partial = [];
    this.pendingChars = 0;
    return events;
  }

  private consume(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    // Only the new text is scanned: the pieces held back contain no line terminator.
    let input = text;
    // An empty decode (a chunk holding only part of a character) must not forget the pending CR.
    if (input.length > 0 && this.pendingCr) {
      this.pendingCr = false;
      if (input.charCodeAt(0) === 10) input = input.slice(1);
    }
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const ch = input.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      const tail = input.slice(start, i);
      const line = this.partial.length === 0 ? tail : this.partial.join('') + tail;
      this.partial = [];
      this.line(line, events);
      this.pendingChars = this.dataChars;
      if (ch === 13) {
        if (i + 1 === input.length) this.pendingCr = true;
        else if (input.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < input.length) {
      this.partial.push(input.slice(start));
      this.pendingChars += input.length - start;
    }
    if (this.pendingChars > this.maxPendingChars) throw this.limitError();
    return events;
  }

  private limitError(): SseLimitError {
    return new SseLimitError(`an SSE event exceeded ${this.maxPendingChars} characters`);
  }

  private line(line: string, events: SseEvent[]): void {
    // Checked here too, not only for text held between chunks: a whole oversized event arriving in
    // one chunk must fail the same way as one arriving in pieces.
    if (line.length > this.maxPendingChars) throw this.limitError();
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      events.push({ type: 'comment', text: line.slice(1).trimStart() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataChars += value.length;
      if (this.dataChars > this.maxPendingChars) throw this.limitError();
    }
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length > 0) {
      const data = this.data.join('\n');
      events.push(data === '[DONE]' ? { type: 'done' } : { type: 'data', data, event: this.event, id: this.id });
    }
    this.data = [];
    this.dataChars = 0;
    this.event = null;
    this.id = null;
  }
}

/** Serialises an event back to the wire. */
export function formatSseEvent(event: SseEvent): string {
  switch (event.type) {
    case 'done':
      return 'data: [DONE]\n\n';
    case 'comment':
      return `: ${event.text}\n\n`;
    case 'data': {
      let out = event.event === null ? '' : `event: ${event.event}\n`;
      if (event.id !== null) out += `id: ${event.id}\n`;
      for (const line of event.data.split('\n')) out += `data: ${line}\n`;
      return `${out}\n`;
    }
  }
}
