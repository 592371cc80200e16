import { describe, expect, it } from 'vitest';
import { parseOpenAIChat } from '../codecs/openai-chat/parse.ts';
import { countInputTokens, estimateInputTokens } from './estimate.ts';

const parse = (body: object) => parseOpenAIChat(Buffer.from(JSON.stringify({ model: 'm', ...body })));

// Prompts whose prompt_tokens OpenAI's API reported for gpt-4o, as recorded in OpenAI's cookbook
// ("How to count tokens with tiktoken"): 124 for the few-shot conversation, 101 with one tool.
const FEW_SHOT = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  },
};
const WEATHER = [
  { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
  { role: 'user', content: "What's the weather like in San Francisco?" },
];

describe('input token estimates', () => {
  it.each([
    ['a few-shot conversation', { messages: FEW_SHOT }, 124],
    ['a tool definition', { messages: WEATHER, tools: [WEATHER_TOOL] }, 101],
  ])('counts %s within 10%% of the provider (recorded: %i)', async (_what, body, reported) => {
    const counted = await countInputTokens(parse(body));
    expect(Math.abs(counted - reported) / reported).toBeLessThanOrEqual(0.1);
  });

  it('keeps the quick estimate for holds above the real count', async () => {
    for (const body of [{ messages: FEW_SHOT }, { messages: WEATHER, tools: [WEATHER_TOOL] }]) {
      const request = parse(body);
      expect(estimateInputTokens(request)).toBeGreaterThanOrEqual(await countInputTokens(request));
    }
  });

  it('prices images by the provider rules, not by their base64 size', async () => {
    const image = (detail: string) => parse({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(200_000)}`, detail } }] }] });
    // 3 per message + 3 for the reply + the role's one token, plus the image.
    expect(await countInputTokens(image('low'))).toBe(85 + 3 + 3 + 1);
    expect(await countInputTokens(image('high'))).toBe(1_445 + 3 + 3 + 1);
  });
});
