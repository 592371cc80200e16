import type { FinishReason } from './events.ts';
import type { Usage } from './usage.ts';

/**
 * The canonical chat request: what every ingress codec parses into and every provider adapter
 * prepares from. It holds only what the gateway understands; a field it does not know never
 * reaches a provider, and a field that would change the price is either modelled here (and
 * reserved for) or refused by the codec.
 */
/**
 * A prompt-cache breakpoint (Anthropic's `cache_control`): the provider caches the prompt up to and
 * including the block that carries it. Optional everywhere it appears; adapters of providers that
 * cache on their own ignore it. Only the default (5-minute) lifetime: a longer one is priced higher
 * than the cache-write bucket, so codecs refuse it.
 */
export interface CacheControl {
  type: 'ephemeral';
}

export interface TextPart {
  type: 'text';
  text: string;
  /** Optional (added for Anthropic prompt caching). */
  cacheControl?: CacheControl;
}

export interface ImagePart {
  type: 'image';
  /** An https URL or a `data:` URL with base64 content. */
  url: string;
  detail: 'auto' | 'low' | 'high' | null;
  /** Optional (added for Anthropic prompt caching). */
  cacheControl?: CacheControl;
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, not parsed. */
  arguments: string;
  /** Optional (added for Anthropic prompt caching). */
  cacheControl?: CacheControl;
  /**
   * Optional (added for Gemini): opaque provider state bound to this call (Gemini's
   * `thoughtSignature`), which the provider wants back verbatim when the call is replayed in a
   * later turn. Absent for providers that have none.
   */
  signature?: string;
}

/**
 * One block of a model's reasoning as the provider returned it (Anthropic `thinking` and
 * `redacted_thinking`). Anthropic requires these back, unchanged and signed, in the assistant turn
 * that preceded a tool result; the plain `reasoning` text cannot carry the signature.
 */
export type ReasoningBlock =
  /** `signature` is null when the reasoning came from a provider that does not sign it. */
  | { type: 'thinking'; text: string; signature: string | null }
  /** Reasoning the provider encrypted: only its opaque data travels. */
  | { type: 'redacted'; data: string };

export type ChatMessage =
  /** `name` is optional here (OpenAI's few-shot examples name system messages; most formats cannot). */
  | { role: 'system' | 'developer'; content: TextPart[]; name?: string | null }
  | { role: 'user'; content: ContentPart[]; name: string | null }
  | {
      role: 'assistant';
      content: TextPart[];
      toolCalls: ToolCall[];
      refusal: string | null;
      name: string | null;
      /** Optional (added for Anthropic): the turn's reasoning blocks, which precede its content. */
      reasoningBlocks?: ReasoningBlock[];
    }
  | {
      role: 'tool';
      toolCallId: string;
      content: TextPart[];
      /** Optional (added for Anthropic `is_error`): the tool reported a failure. */
      isError?: boolean;
      /** Optional (added for Anthropic prompt caching): a breakpoint on the whole tool result. */
      cacheControl?: CacheControl;
    };

/** JSON Schema and other free-form JSON the gateway forwards without interpreting. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ToolDefinition {
  name: string;
  description: string | null;
  parameters: JsonObject | null;
  strict: boolean | null;
  /** Optional (added for Anthropic prompt caching). */
  cacheControl?: CacheControl;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'function'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonObject | null; strict: boolean | null; description: string | null };

export interface Sampling {
  temperature: number | null;
  topP: number | null;
  frequencyPenalty: number | null;
  presencePenalty: number | null;
  seed: number | null;
  stop: string[];
  logprobs: boolean | null;
  topLogprobs: number | null;
  logitBias: Record<string, number> | null;
}

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

/**
 * How much of its reasoning a model should report back as a summary (the Responses API's
 * `reasoning.summary`). Only providers that summarise on request (OpenAI Responses) read it.
 */
export type ReasoningSummary = 'auto' | 'concise' | 'detailed';

/**
 * Reasoning as an Anthropic-format client asked for it, kept so that an Anthropic upstream gets
 * exactly that (`reasoningEffort` carries the portable meaning for every other provider). Thinking
 * tokens count against the output cap, so none of this changes the hold.
 */
export interface ThinkingConfig {
  /** `thinking.type`; null when the client set only an effort. */
  type: 'enabled' | 'adaptive' | 'disabled' | null;
  /** With `enabled`: the thinking budget in tokens, below the output cap. */
  budgetTokens: number | null;
  /** `output_config.effort`, whose scale goes past ReasoningEffort's. */
  effort: 'low' | 'medium' | 'high' | 'xhigh' | 'max' | null;
  /** `thinking.display`: whether thinking text comes back summarised or not at all. */
  display: 'summarized' | 'omitted' | null;
}

export interface ChatRequest {
  /** The model string as the client sent it, tier prefix included. */
  model: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
  toolChoice: ToolChoice | null;
  parallelToolCalls: boolean | null;
  responseFormat: ResponseFormat | null;
  sampling: Sampling;
  /** The client's output cap per choice, or null when it set none. */
  maxOutputTokens: number | null;
  /** Number of choices; each may produce up to the output cap, so the hold is multiplied by it. */
  n: number;
  stream: boolean;
  /** The client asked for usage in the stream (OpenAI `stream_options.include_usage`). */
  includeUsage: boolean;
  reasoningEffort: ReasoningEffort | null;
  /** Optional (added for Anthropic): the client's own thinking settings; see ThinkingConfig. */
  thinking?: ThinkingConfig | null;
  /** Optional (added for OpenAI Responses): the reasoning summary the client asked for. */
  reasoningSummary?: ReasoningSummary | null;
  /** The end user's id, for providers' abuse monitoring. */
  user: string | null;
  /**
   * Optional: the client's `messages` as it sent them, kept by a codec for long bodies so an
   * adapter that renders the same JSON forwards these bytes instead of encoding the prompt again.
   */
  sourceMessages?: SourceJson | null;
}

/**
 * A member of a client's JSON body as it came: the value the gateway read and its exact bytes,
 * which hold that value and nothing else (no repeated keys, valid UTF-8). An adapter may send the
 * bytes only where its own rendering would be JSON-equal to `value` (see `encodeWithSource`).
 */
export interface SourceJson {
  value: unknown;
  bytes: Uint8Array;
}

export const NO_SAMPLING: Readonly<Sampling> = Object.freeze({
  temperature: null, topP: null, frequencyPenalty: null, presencePenalty: null, seed: null,
  stop: [], logprobs: null, topLogprobs: null, logitBias: null,
});

export interface ChatChoice {
  index: number;
  text: string | null;
  reasoning: string | null;
  refusal: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** Optional (added for Anthropic): the stop sequence that ended the choice; see the finish event. */
  stopSequence?: string;
  /** Optional (added for Anthropic): the reasoning as blocks, with signatures; `reasoning` is their text. */
  reasoningBlocks?: ReasoningBlock[];
}

/** A whole (non-streamed) answer. */
export interface ChatResponse {
  id: string;
  /** The model as the provider named it. */
  model: string;
  /** Unix seconds. */
  created: number;
  choices: ChatChoice[];
  /** Null when the provider reported none. */
  usage: Usage | null;
}

/** A count of a chat request's input tokens (Anthropic's `count_tokens`): nothing is generated. */
export interface TokenCount {
  inputTokens: number;
}
