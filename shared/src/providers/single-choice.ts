import type { ChatChoice, ToolCall } from '../canonical/chat.ts';
import type { FinishReason } from '../canonical/events.ts';

export interface SingleChoiceParts {
  /** The text blocks, in order; none makes the text null. */
  texts: string[];
  /** The reasoning blocks' text, in order; none makes the reasoning null. */
  thoughts: string[];
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** The stop sequence that ended the answer, or null when none was named. */
  stopSequence: string | null;
}

/** The one choice of a provider that answers with a single message of blocks (Anthropic, Converse). */
export function singleChoice(parts: SingleChoiceParts): ChatChoice {
  return {
    index: 0,
    text: parts.texts.length > 0 ? parts.texts.join('') : null,
    reasoning: parts.thoughts.length > 0 ? parts.thoughts.join('') : null,
    refusal: null,
    toolCalls: parts.toolCalls,
    finishReason: parts.finishReason,
    ...(parts.stopSequence !== null ? { stopSequence: parts.stopSequence } : {}),
  };
}
