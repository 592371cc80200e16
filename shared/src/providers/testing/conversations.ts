/**
 * The scripted conversations every provider's stream captures record, as the canonical events they
 * decode into (choice 0). Test code only: nothing outside `*.test.ts` imports it.
 */
import type { StreamEvent } from '../../canonical/events.ts';

/** The text capture's answer, "Bonjour à tous 👋", in the three deltas every provider sent. */
export const BONJOUR: StreamEvent[] = [
  { type: 'text', choice: 0, text: 'Bonjour' },
  { type: 'text', choice: 0, text: ' à tous' },
  { type: 'text', choice: 0, text: ' 👋' },
];

/**
 * The tool capture's two parallel calls, the weather in Paris then its local time, with their
 * arguments cut as every provider streamed them; the ids are each provider's own.
 */
export function parisToolCalls(weatherId: string, timeId: string): StreamEvent[] {
  return [
    { type: 'tool_call', choice: 0, index: 0, id: weatherId, name: 'get_weather', arguments: '' },
    { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: '{"lo' },
    { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: 'cation": "Par' },
    { type: 'tool_call', choice: 0, index: 0, id: null, name: null, arguments: 'is, France"}' },
    { type: 'tool_call', choice: 0, index: 1, id: timeId, name: 'get_local_time', arguments: '' },
    { type: 'tool_call', choice: 0, index: 1, id: null, name: null, arguments: '{"timezone"' },
    { type: 'tool_call', choice: 0, index: 1, id: null, name: null, arguments: ': "Europe/Paris"}' },
  ];
}
