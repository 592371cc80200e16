import { adapterFor, type UpstreamTarget } from '@tollgate/shared';
import { apiKeyTarget, bodyJson } from '@tollgate/shared/providers/testing/requests';
import { describe, expect, it } from 'vitest';
import { parseAnthropicMessages } from './parse.ts';

const target: UpstreamTarget = apiKeyTarget('anthropic', 'https://api.anthropic.com/v1', 'claude-sonnet-4-5-20250929', 'sk-ant-api03-test-key');

/** An Anthropic client's request, through the canonical request, as the Anthropic adapter sends it on. */
function throughGateway(request: Record<string, unknown>): unknown {
  const canonical = parseAnthropicMessages(Buffer.from(JSON.stringify(request)));
  return bodyJson(adapterFor('anthropic')!.prepareChat(canonical, target));
}

const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

/** A conversation in the form Anthropic itself answers: blocks everywhere, tool results first in their turn. */
const conversation = {
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 4000,
  system: [{ type: 'text', text: 'You are a weather assistant.' }, { type: 'text', text: '<station list>', cache_control: { type: 'ephemeral' } }],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is the weather where this photo was taken, and in Lyon?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
        { type: 'image', source: { type: 'url', url: 'https://img.test/skyline.png' }, cache_control: { type: 'ephemeral' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'The skyline is Paris. Two lookups.', signature: 'EqQBsig' },
        { type: 'redacted_thinking', data: 'EmwKredacted' },
        { type: 'text', text: 'That is Paris. Checking both.' },
        { type: 'tool_use', id: 'toolu_01Paris', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_01Lyon', name: 'get_weather', input: { city: 'Lyon' }, cache_control: { type: 'ephemeral' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01Paris', content: [{ type: 'text', text: '18°C, clear' }] },
        { type: 'tool_result', tool_use_id: 'toolu_01Lyon', content: [{ type: 'text', text: 'station offline' }], is_error: true, cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Answer in one line.' },
      ],
    },
  ],
  metadata: { user_id: 'user-7f3a' },
  stop_sequences: ['\n\n'],
  temperature: 0.5,
  tools: [
    { name: 'get_weather', description: 'Current weather in a city', input_schema: schema, strict: true, cache_control: { type: 'ephemeral' } },
    { name: 'get_station', input_schema: { type: 'object', properties: {} } },
  ],
  tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
  thinking: { type: 'enabled', budget_tokens: 2000 },
  output_config: { effort: 'medium', format: { type: 'json_schema', schema } },
  stream: true,
};

describe('Anthropic request → canonical → Anthropic request', () => {
  it('keeps the meaning: system, text, images, thinking, tools, tool calls and results with their ids, settings', () => {
    expect(throughGateway(conversation)).toEqual(conversation);
  });

  it('gives the same meaning for the short forms Anthropic also accepts', () => {
    const short = {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 100,
      system: 'Be brief.',
      top_k: 40,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done' }] },
        { role: 'assistant', content: 'Done' },
      ],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    };
    expect(throughGateway(short)).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }] }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Done' }] },
      ],
      // top_k is dropped (see parse.ts).
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    });
  });

  it('keeps adaptive thinking with its display and effort', () => {
    const request = { model: 'claude-sonnet-4-5-20250929', max_tokens: 8000, messages: [{ role: 'user', content: [{ type: 'text', text: 'Prove it.' }] }], thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'xhigh' } };
    expect(throughGateway(request)).toEqual(request);
  });
});
