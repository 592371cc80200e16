import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../canonical/events.ts';
import { usage } from '../../canonical/usage.ts';
import { decodeWith, eventsOf, fixtures, split } from '../testing/stream-harness.ts';
import { azureOpenAIAdapter } from './adapter.ts';

const FIXTURES = fixtures(import.meta.dirname);
const capture = FIXTURES.read;
const decodeAll = decodeWith(azureOpenAIAdapter);

const captures: { file: string; events: StreamEvent[] }[] = [
  {
    file: 'chat-stream-prompt-filter.sse',
    events: [
      // The opening content-filter chunk (empty id, model, creation time) is no start.
      { type: 'start', id: 'chatcmpl-AzUr3StreamHello', model: 'gpt-4o-2024-11-20', created: 1756400000 },
      { type: 'text', choice: 0, text: 'Hello' },
      { type: 'text', choice: 0, text: ' from Azure' },
      { type: 'text', choice: 0, text: '.' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: usage({ input: 19, output: 4 }) },
    ],
  },
  {
    file: 'chat-stream-output-filtered.sse',
    events: [
      { type: 'start', id: 'chatcmpl-AzUr3StreamFiltered', model: 'gpt-4o-2024-11-20', created: 1756400100 },
      { type: 'text', choice: 0, text: 'The duel began' },
      { type: 'finish', choice: 0, reason: 'content_filter' },
    ],
  },
];

describe('Azure OpenAI chat adapter: recorded answers', () => {
  it('has expectations for every stream capture on disk', () => {
    expect(FIXTURES.onDisk('.sse')).toEqual(captures.map((c) => c.file).sort());
  });

  it.each(captures.map((c) => [c.file, c.events] as const))('%s decodes into exactly the canonical events, however the bytes are split (property)', (file, events) => {
    const bytes = capture(file);
    expect(eventsOf(decodeAll([bytes]))).toEqual(events);
    expect(decodeAll([bytes]).at(-1)).toEqual({ events: [], raw: null, terminal: true });
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (points) => {
        expect(eventsOf(decodeAll(split(bytes, points)))).toEqual(events);
      }),
      { numRuns: 100 },
    );
  });

  it('reads a whole answer, its filter annotations ignored', () => {
    expect(azureOpenAIAdapter.parseChatResponse(capture('chat-completion.json'))).toEqual({
      id: 'chatcmpl-AzUr3WholeParis',
      model: 'gpt-4o-2024-11-20',
      created: 1756400200,
      choices: [{ index: 0, text: 'Paris is the capital of France.', reasoning: null, refusal: null, toolCalls: [], finishReason: 'stop' }],
      usage: usage({ input: 14, output: 8 }),
    });
  });

  it('describes Azure’s error bodies for operators', () => {
    expect(azureOpenAIAdapter.describeError(401, capture('error-unauthorized.json'))).toBe(
      'HTTP 401: 401 / Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    );
    expect(azureOpenAIAdapter.describeError(404, capture('error-deployment-not-found.json'))).toBe(
      'HTTP 404: DeploymentNotFound / The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
    );
    expect(azureOpenAIAdapter.describeError(400, capture('error-content-filter.json'))).toMatch(/^HTTP 400: content_filter \/ 400 \/ The response was filtered due to the prompt triggering Azure OpenAI's content management policy\./);
  });
});
