import { describe, expect, it } from 'vitest';
import { NO_SAMPLING, type ChatMessage, type ChatRequest, type ReasoningEffort } from '../../canonical/chat.ts';
import type { UpstreamTarget } from '../adapter.ts';
import { apiKeyTarget, chatRequest, bodyJson } from '../testing/requests.ts';
import { anthropicAdapter } from './adapter.ts';
import { thinkingStyle } from './thinking.ts';

const target = (upstreamModel: string): UpstreamTarget => apiKeyTarget('anthropic', 'https://api.anthropic.com/v1', upstreamModel, 'sk-ant-api03-test-key');

const base: ChatRequest = chatRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Think.' }], name: null }], reasoningEffort: 'medium' });

const NEW = 'claude-opus-4-6';
const OLD = 'claude-sonnet-4-5-20250929';

function reasoningOf(request: ChatRequest, model: string): { thinking: unknown; output_config: unknown } {
  const body = bodyJson(anthropicAdapter.prepareChat(request, target(model)));
  return { thinking: body.thinking, output_config: body.output_config };
}

describe('thinkingStyle', () => {
  it.each([
    ['claude-opus-4-6', 'adaptive'],
    ['claude-sonnet-4-6', 'adaptive'],
    ['claude-opus-4-7-20260416', 'adaptive'],
    ['claude-opus-5', 'adaptive'],
    ['us.anthropic.claude-opus-4-6-v1:0', 'adaptive'],
    ['claude-sonnet-4-5-20250929', 'budget'],
    ['claude-sonnet-4-5@20250929', 'budget'],
    ['claude-haiku-4-5', 'budget'],
    ['claude-opus-4-1-20250805', 'budget'],
    ['claude-opus-4-20250514', 'budget'],
    ['anthropic.claude-sonnet-4-20250514-v1:0', 'budget'],
    ['claude-3-7-sonnet-20250219', 'budget'],
    ['a-model-it-does-not-know', 'adaptive'],
  ])('%s takes %s thinking', (model, style) => {
    expect(thinkingStyle(model)).toBe(style);
  });
});

describe('Anthropic adapter: the portable reasoning effort', () => {
  it.each<[ReasoningEffort, string]>([
    ['minimal', 'low'],
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
  ])('is adaptive thinking with an effort on current models: %s → %s', (effort, anthropic) => {
    expect(reasoningOf({ ...base, reasoningEffort: effort }, NEW)).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: anthropic } });
  });

  it.each<[ReasoningEffort, number | null, number]>([
    ['minimal', null, 1024],
    ['low', null, 1024],
    ['medium', null, 2048],
    ['high', null, 3072],
    ['low', 20_000, 5000],
    ['high', 20_000, 15_000],
  ])('is a thinking budget, a share of the cap, on earlier models: %s with cap %s → %i', (effort, cap, budget) => {
    expect(reasoningOf({ ...base, reasoningEffort: effort, maxOutputTokens: cap }, OLD)).toEqual({ thinking: { type: 'enabled', budget_tokens: budget }, output_config: undefined });
  });

  it('is nothing on earlier models when the cap leaves no room for the smallest budget', () => {
    expect(reasoningOf({ ...base, maxOutputTokens: 1024, reasoningEffort: 'minimal' }, OLD)).toEqual({ thinking: undefined, output_config: undefined });
  });

  it('is nothing when no effort was asked for', () => {
    expect(reasoningOf({ ...base, reasoningEffort: null }, NEW)).toEqual({ thinking: undefined, output_config: undefined });
  });

  const toolLoop = (assistant: Partial<Extract<ChatMessage, { role: 'assistant' }>>): ChatRequest => ({
    ...base,
    tools: [{ name: 'f', description: null, parameters: null, strict: null }],
    messages: [
      ...base.messages,
      { role: 'assistant', content: [], toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }], refusal: null, name: null, ...assistant },
      { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: 'ok' }] },
    ],
  });

  it.each<[string, ChatRequest]>([
    ['a temperature', { ...base, sampling: { ...NO_SAMPLING, temperature: 0.2 } }],
    ['a top_p below 0.95', { ...base, sampling: { ...NO_SAMPLING, topP: 0.9 } }],
    ['a forced tool', { ...base, tools: [{ name: 'f', description: null, parameters: null, strict: null }], toolChoice: { type: 'function', name: 'f' } }],
    ['any tool required', { ...base, tools: [{ name: 'f', description: null, parameters: null, strict: null }], toolChoice: { type: 'required' } }],
    ['a tool result answering a turn without signed thinking', toolLoop({})],
    ['a tool result answering a turn with unsigned thinking', toolLoop({ reasoningBlocks: [{ type: 'thinking', text: 'from elsewhere', signature: null }] })],
  ])('yields to %s, which Anthropic refuses with thinking: the effort alone, or nothing on earlier models', (_what, request) => {
    expect(reasoningOf(request, NEW)).toEqual({ thinking: undefined, output_config: { effort: 'medium' } });
    expect(reasoningOf(request, OLD)).toEqual({ thinking: undefined, output_config: undefined });
  });

  it.each<[string, ChatRequest]>([
    ['a temperature of 1', { ...base, sampling: { ...NO_SAMPLING, temperature: 1 } }],
    ['a top_p of 0.95', { ...base, sampling: { ...NO_SAMPLING, topP: 0.95 } }],
    ['an automatic tool choice', { ...base, tools: [{ name: 'f', description: null, parameters: null, strict: null }], toolChoice: { type: 'auto' } }],
    ['a forced tool choice without tools (not sent)', { ...base, toolChoice: { type: 'required' } }],
    ['a tool result answering a turn that starts with signed thinking', toolLoop({ reasoningBlocks: [{ type: 'thinking', text: 'plan', signature: 'sig' }] })],
    ['a tool result answering a turn that starts with redacted thinking', toolLoop({ reasoningBlocks: [{ type: 'redacted', data: 'opaque' }] })],
  ])('thinks with %s', (_what, request) => {
    expect(reasoningOf(request, NEW)).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
  });
});
