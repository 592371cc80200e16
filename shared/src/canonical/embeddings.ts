import type { Usage } from './usage.ts';

/** An embeddings request: texts in, vectors out, priced on input tokens. */
export interface EmbeddingRequest {
  model: string;
  /** The texts to embed, in order. */
  input: string[];
  /** Output dimensions, for models that can shorten their vectors. */
  dimensions: number | null;
  encodingFormat: 'float' | 'base64';
  user: string | null;
}

export interface EmbeddingResponse {
  model: string;
  /** One vector per input, by index: numbers, or base64 of little-endian float32 when asked. */
  data: { index: number; embedding: number[] | string }[];
  usage: Usage | null;
}
