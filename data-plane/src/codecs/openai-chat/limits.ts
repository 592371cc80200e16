/**
 * Bounds on what a client may ask for. Every list and number in a request body is hostile until
 * bounded: these keep parsing linear and the hold (output cap × n) finite.
 */
export const LIMITS = {
  modelChars: 256,
  messages: 10_000,
  partsPerMessage: 1_000,
  tools: 128,
  toolCallsPerMessage: 128,
  stopSequences: 4,
  /** OpenAI allows up to 128; every choice is held for in full, so a smaller bound keeps holds sane. */
  n: 16,
  maxOutputTokens: 10_000_000,
  logitBiasEntries: 300,
  topLogprobs: 20,
  userChars: 256,
  toolNameChars: 64,
} as const;
