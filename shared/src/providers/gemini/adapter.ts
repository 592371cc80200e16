import type { ProviderAdapter } from '../adapter.ts';
import { describeGeminiError } from './errors.ts';
import { geminiRequest } from './request.ts';
import { parseGeminiResponse } from './response.ts';
import { GeminiStreamDecoder } from './stream.ts';

/**
 * Google AI Studio, the Gemini API (`generateContent` / `streamGenerateContent`). No client speaks
 * Gemini to the gateway, so there is no passthrough. Where the formats differ, see:
 * - request: contents.ts (roles, system instruction, tool results by name, thought signatures),
 *   images.ts (data URLs inline, https URLs as fileData), tools.ts (JSON Schema unchanged in
 *   `parametersJsonSchema`), generation.ts (sampling, response formats, reasoning effort as a
 *   thinking budget or level);
 * - answers: parts.ts (tool-call ids: Gemini's own, else derived from the response id, the
 *   candidate and the call's position), finish.ts, usage.ts (thoughts are counted beside the
 *   candidates, not in them), stream.ts (no end marker: complete when every candidate finished).
 */
export const geminiAdapter: ProviderAdapter = {
  protocol: 'gemini',
  nativeFormat: null,
  prepareChat: geminiRequest,
  parseChatResponse: parseGeminiResponse,
  newStreamDecoder: (limits) => new GeminiStreamDecoder(limits),
  describeError: describeGeminiError,
};
