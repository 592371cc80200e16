import type { ChatChoice, ChatResponse, GatewayError, Usage } from '@tollgate/shared';
import { writeStopReason } from '@tollgate/shared/providers/anthropic/finish';
import { toolInput } from '@tollgate/shared/providers/anthropic/messages';
import { writeAnthropicUsage } from '@tollgate/shared/providers/anthropic/usage';
import type { RenderContext } from '../codec.ts';
import { anthropicError } from './errors.ts';

type Block = Record<string, unknown>;

/**
 * A choice's content as Anthropic blocks, in Anthropic's order: thinking, text, tool_use. Reasoning
 * from a provider that does not sign it comes with an empty signature, which Anthropic SDKs accept
 * and the gateway drops again if the block is sent back to an Anthropic upstream.
 */
function contentBlocks(choice: ChatChoice | undefined): Block[] {
  if (choice === undefined) return [];
  const blocks: Block[] = [];
  if (choice.reasoningBlocks !== undefined && choice.reasoningBlocks.length > 0) {
    for (const b of choice.reasoningBlocks) {
      blocks.push(b.type === 'thinking' ? { type: 'thinking', thinking: b.text, signature: b.signature ?? '' } : { type: 'redacted_thinking', data: b.data });
    }
  } else if (choice.reasoning) {
    blocks.push({ type: 'thinking', thinking: choice.reasoning, signature: '' });
  }
  // Anthropic has no refusal block: a refusal is the answer's text (its stop_reason says refusal).
  for (const text of [choice.text, choice.refusal]) if (text) blocks.push({ type: 'text', text });
  for (const call of choice.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) });
  return blocks;
}

/** A whole Anthropic `message`, with the usage that was billed. The Messages API has one choice. */
export function renderAnthropicResponse(response: ChatResponse, usage: Usage, ctx: RenderContext): string {
  const choice = response.choices.find((c) => c.index === 0) ?? response.choices[0];
  return JSON.stringify({
    id: response.id || `msg_${ctx.requestId}`,
    type: 'message',
    role: 'assistant',
    model: response.model || ctx.model,
    content: contentBlocks(choice),
    stop_reason: writeStopReason(choice?.finishReason ?? 'stop', choice?.stopSequence),
    stop_sequence: choice?.stopSequence ?? null,
    usage: writeAnthropicUsage(usage),
  });
}

export function renderAnthropicError(error: GatewayError): string {
  return JSON.stringify(anthropicError(error));
}
