/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream grammar): bytes in, complete
 * events out, whatever the chunk boundaries. Lines end in LF, CRLF or CR; a blank line dispatches;
 * `:` starts a comment; a single space after the field colon is dropped; `data` lines join with LF.
 */
export type SseEvent =
  | { type: 'data'; data: string; event: string | null; id: string | null }
  | { type: 'done' }
  | { type: 'comment'; text: string };

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** A CR ended the last chunk: a LF starting the next one belongs to it. */
  private pendingCr = false;
  private data: string[] = [];
  private event: string | null = null;
  private id: string | null = null;

  push(chunk: Uint8Array): SseEvent[] {
    return this.consume(this.decoder.decode(chunk, { stream: true }));
  }

  /** Flushes a final event that was not followed by a blank line. */
  end(): SseEvent[] {
    const events = this.consume(`${this.decoder.decode()}\n\n`);
    this.buffer = '';
    return events;
  }

  private consume(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let input = this.buffer + text;
    if (this.pendingCr && input.startsWith('\n')) input = input.slice(1);
    this.pendingCr = false;
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const ch = input.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.line(input.slice(start, i), events);
      if (ch === 13) {
        if (i + 1 === input.length) this.pendingCr = true;
        else if (input.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = input.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
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
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length > 0) {
      const data = this.data.join('\n');
      events.push(data === '[DONE]' ? { type: 'done' } : { type: 'data', data, event: this.event, id: this.id });
    }
    this.data = [];
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
