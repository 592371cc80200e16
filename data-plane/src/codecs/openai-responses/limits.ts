/**
 * Bounds on what a Responses-format client may ask for. Every list and number in a request body is
 * hostile until bounded: these keep parsing linear and the hold (max_output_tokens) finite.
 */
export const LIMITS = {
  modelChars: 256,
  inputItems: 10_000,
  partsPerItem: 1_000,
  tools: 128,
  toolNameChars: 64,
  callIdChars: 256,
  schemaNameChars: 64,
  maxOutputTokens: 10_000_000,
  userChars: 256,
} as const;
