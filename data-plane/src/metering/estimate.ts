/**
 * Conservative token estimates, used to size a reservation before the call and to bill when a
 * provider reports no usage (a client abort, a provider that omits it); the usage record then says
 * `estimated`. Three UTF-8 bytes per token overestimates English (about four) so an estimate
 * rarely undercharges. A real tokenizer replaces this in the providers issue.
 */
const BYTES_PER_TOKEN = 3;
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REQUEST = 3;

export function estimateTextTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

export function estimateInputTokens(messages: readonly unknown[]): number {
  return estimateTextTokens(JSON.stringify(messages)) + TOKENS_PER_MESSAGE * messages.length + TOKENS_PER_REQUEST;
}
