import type { CacheControl, ChatMessage, ContentPart, ReasoningBlock, TextPart, ToolCall } from '../../canonical/chat.ts';
import { asRecord } from '../json.ts';
import { imageSource } from './images.ts';

export type AnthropicBlock = Record<string, unknown>;

export interface AnthropicTurn {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

export interface AnthropicConversation {
  /** System and developer messages, in order, as text blocks. */
  system: AnthropicBlock[];
  turns: AnthropicTurn[];
}

export function cacheControl(marker: CacheControl | undefined): { cache_control?: { type: 'ephemeral' } } {
  return marker === undefined ? {} : { cache_control: { type: marker.type } };
}

/** Anthropic refuses empty text blocks; an empty part says nothing, so it is left out. */
function textBlocks(parts: readonly TextPart[]): AnthropicBlock[] {
  return parts.filter((p) => p.text.length > 0).map((p) => ({ type: 'text', text: p.text, ...cacheControl(p.cacheControl) }));
}

function contentBlocks(parts: readonly ContentPart[]): AnthropicBlock[] {
  return parts.flatMap((p): AnthropicBlock[] => {
    if (p.type === 'text') return textBlocks([p]);
    return [{ type: 'image', source: imageSource(p.url), ...cacheControl(p.cacheControl) }];
  });
}

/**
 * Reasoning blocks go back only as Anthropic can verify them: a thinking block without a
 * signature (reasoning another provider produced) would be refused, so it is left out.
 */
function reasoningBlocks(blocks: readonly ReasoningBlock[]): AnthropicBlock[] {
  return blocks.flatMap((b): AnthropicBlock[] => {
    if (b.type === 'redacted') return [{ type: 'redacted_thinking', data: b.data }];
    return b.signature === null ? [] : [{ type: 'thinking', thinking: b.text, signature: b.signature }];
  });
}

/**
 * Tool arguments are JSON text canonically and an object for Anthropic. Arguments that are not a
 * JSON object (a call cut off mid-stream, say) become `{}`: the call still pairs with its result.
 */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim().length === 0) return {};
  try {
    return asRecord(JSON.parse(args)) ?? {};
  } catch {
    return {};
  }
}

function toolUse(call: ToolCall): AnthropicBlock {
  return { type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments), ...cacheControl(call.cacheControl) };
}

/**
 * The canonical conversation as Anthropic takes it: system prompts lifted out of the messages into
 * `system` (in order; one in the middle of a conversation moves to the top), tool results as
 * `tool_result` blocks of a user turn, consecutive turns of one role merged. Tool call ids pass
 * through unchanged, so each result still names its call.
 */
export function anthropicConversation(messages: readonly ChatMessage[]): AnthropicConversation {
  const system: AnthropicBlock[] = [];
  const turns: AnthropicTurn[] = [];
  const push = (role: AnthropicTurn['role'], blocks: AnthropicBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(m.content));
        break;
      case 'user':
        push('user', contentBlocks(m.content));
        break;
      case 'assistant':
        push('assistant', [
          ...reasoningBlocks(m.reasoningBlocks ?? []),
          ...textBlocks(m.content),
          ...(m.refusal ? [{ type: 'text', text: m.refusal }] : []),
          ...m.toolCalls.map(toolUse),
        ]);
        break;
      case 'tool': {
        const content = textBlocks(m.content);
        push('user', [
          {
            type: 'tool_result',
            tool_use_id: m.toolCallId,
            ...(content.length > 0 ? { content } : {}),
            ...(m.isError === true ? { is_error: true } : {}),
            ...cacheControl(m.cacheControl),
          },
        ]);
        break;
      }
    }
  }
  // Anthropic wants a user turn's tool results before anything else in it.
  for (const turn of turns) {
    if (turn.role === 'user') turn.content = [...turn.content.filter(isToolResult), ...turn.content.filter((b) => !isToolResult(b))];
  }
  return { system, turns };
}

function isToolResult(block: AnthropicBlock): boolean {
  return block.type === 'tool_result';
}
