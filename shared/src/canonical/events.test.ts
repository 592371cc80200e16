import { describe, expect, it } from 'vitest';
import { isContentEvent, type StreamEvent } from './events.ts';
import { ZERO_USAGE } from './usage.ts';

describe('isContentEvent', () => {
  it('counts generated content and the finish as the first byte, never start, usage or error', () => {
    const events: StreamEvent[] = [
      { type: 'start', id: 'x', model: 'm', created: 1 },
      { type: 'text', choice: 0, text: 'a' },
      { type: 'reasoning', choice: 0, text: 'b' },
      { type: 'refusal', choice: 0, text: 'c' },
      { type: 'tool_call', choice: 0, index: 0, id: 'call', name: 'f', arguments: '' },
      { type: 'usage', usage: ZERO_USAGE },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'error', message: 'boom', code: null },
    ];
    expect(events.filter(isContentEvent).map((e) => e.type)).toEqual(['text', 'reasoning', 'refusal', 'tool_call', 'finish']);
  });
});
