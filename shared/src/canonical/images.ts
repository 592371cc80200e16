/**
 * An image generation (`/v1/images/generations`): a prompt in, up to `n` images out, priced per
 * image by size and quality (pricing.ts `imagePriceOf`), never by tokens.
 */
export interface ImageRequest {
  model: string;
  prompt: string;
  /** Images asked for: the hold covers this many at the dearest price that fits. */
  n: number;
  /** `WIDTHxHEIGHT` or `auto`; null: the provider's default. */
  size: string | null;
  /** `standard`, `hd`, `low`, `medium`, `high`, ... or `auto`; null: the provider's default. */
  quality: string | null;
  responseFormat: 'url' | 'b64_json' | null;
  style: 'vivid' | 'natural' | null;
  /** GPT image models only. */
  background: 'transparent' | 'opaque' | 'auto' | null;
  outputFormat: 'png' | 'jpeg' | 'webp' | null;
  outputCompression: number | null;
  moderation: 'low' | 'auto' | null;
  user: string | null;
  safetyIdentifier: string | null;
}

export interface GeneratedImage {
  url: string | null;
  b64Json: string | null;
  revisedPrompt: string | null;
}

export interface ImageResponse {
  created: number;
  /** The images returned, in order: what is billed (never more than the request's `n`). */
  data: GeneratedImage[];
  /** What the provider says it made, when it says (GPT image models do). */
  size: string | null;
  quality: string | null;
  background: string | null;
  outputFormat: string | null;
}
