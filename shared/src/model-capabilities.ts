/**
 * What a model can do, as the operator's catalogue states it and `GET /v1/models` shows it:
 * `vision` (image input), `tools` (function calling), `json_schema` (structured output),
 * `reasoning` (thinking tokens), `embeddings`, `images` (image generation). Informational: the
 * data plane routes by name and refuses by price, not by capability.
 */
export const MODEL_CAPABILITIES = ['vision', 'tools', 'json_schema', 'reasoning', 'embeddings', 'images'] as const;
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];

export function isModelCapability(value: unknown): value is ModelCapability {
  return typeof value === 'string' && (MODEL_CAPABILITIES as readonly string[]).includes(value);
}
