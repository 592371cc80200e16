import type { Usage } from './usage.ts';

/**
 * Why a choice ended. `length`: the output cap (the client's, or the gateway's hold) was reached;
 * `error`: the upstream failed after content had been sent.
 */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

/**
 * What an upstream stream means, whatever its wire format. Adapters parse provider events into
 * these; ingress codecs render them in the client's format. `choice` is the index of the choice
 * (the `n` parameter); `index` of a tool call is its position within that choice's calls.
 */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number }
  | { type: 'text'; choice: number; text: string }
  /**
   * A piece of reasoning. Optional fields (added for Anthropic, whose assistant turns must carry
   * their reasoning back signed): `signature` closes the current reasoning block with the
   * provider's signature over it (text is '' then); `redacted` is a whole encrypted block (text '').
   */
  | { type: 'reasoning'; choice: number; text: string; signature?: string; redacted?: string }
  | { type: 'refusal'; choice: number; text: string }
  /**
   * A piece of a tool call: the first piece carries id and name, later ones more arguments.
   * Optional `signature` (added for Gemini): see ToolCall.signature; on the piece that carries the id.
   */
  | { type: 'tool_call'; choice: number; index: number; id: string | null; name: string | null; arguments: string; signature?: string }
  /** Usage so far; a later usage event replaces an earlier one. */
  | { type: 'usage'; usage: Usage }
  /**
   * Optional `stopSequence` (added for Anthropic): the client's stop sequence that ended the choice,
   * when the provider names it (the reason is `stop` then). Providers that do not say leave it out.
   */
  | { type: 'finish'; choice: number; reason: FinishReason; stopSequence?: string }
  /**
   * The provider reported an error inside the stream. `message` is the provider's and may hold
   * anything: it is for sanitised operator logs only, never for the client.
   */
  | { type: 'error'; message: string; code: string | null };

/** Events that carry generated content: the first one sent to the client is the "first byte". */
export function isContentEvent(event: StreamEvent): boolean {
  return event.type === 'text' || event.type === 'reasoning' || event.type === 'refusal' || event.type === 'tool_call' || event.type === 'finish';
}
