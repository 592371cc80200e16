/**
 * Bounds on what an Anthropic-format client may ask for. Every list and number in a request body is
 * hostile until bounded: these keep parsing linear and the hold (max_tokens) finite.
 */
export const LIMITS = {
  modelChars: 256,
  messages: 10_000,
  blocksPerMessage: 1_000,
  systemBlocks: 1_000,
  tools: 128,
  /** Anthropic sets no small bound; other providers take 4 or so, and the list is matched on every token. */
  stopSequences: 16,
  stopSequenceChars: 1_000,
  maxOutputTokens: 10_000_000,
  toolNameChars: 64,
  toolIdChars: 256,
  userChars: 256,
  /** Anthropic's smallest thinking budget. */
  minThinkingBudget: 1_024,
} as const;
