import type { Sampling } from './chat.ts';

/**
 * A legacy text completion (`/v1/completions`): a prompt continued, no roles. Answered as the
 * canonical ChatResponse / stream events (a choice's `text` is the continuation); only providers
 * that still offer the endpoint take it.
 */
export interface CompletionRequest {
  model: string;
  /** One prompt, or several (one choice set each). */
  prompt: string[];
  sampling: Sampling;
  maxOutputTokens: number | null;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  user: string | null;
}
