import type { ChatRequest } from '@tollgate/shared';
import { countTokens } from './tokenizer.ts';

/**
 * Token estimates. Two kinds, for two jobs:
 * - quick and conservative (bytes / 3), on the hot path: sizing a hold before the call and counting
 *   output as it passes for the cut at the hold. It over-counts English by about a third.
 * - a real tokenizer, only when a provider reports no usage (a client abort, a provider that omits
 *   it, a cut stream): the usage record then says `estimated`, within a few percent of the count.
 */
const BYTES_PER_TOKEN = 3;
/**
 * OpenAI's chat format costs 3 tokens per message (role and separators) and 3 to prime the reply;
 * the quick estimate rounds these up to 4 and 3.
 */
const TOKENS_PER_MESSAGE = 3;
const QUICK_TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
/**
 * An image costs what the provider's own rules say, never the size of its base64: OpenAI's largest
 * high-detail image (2048×768 after scaling: 8 tiles × 170 + 85) is 1,445 tokens, a low-detail one 85.
 */
const IMAGE_TOKENS = { low: 85, high: 1_445 } as const;

export function estimateBytesAsTokens(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}

/** The texts of a request that count as input, in order, the names among them, and its image tokens. */
function inputParts(request: ChatRequest): { texts: string[]; names: number; imageTokens: number } {
  const texts: string[] = [];
  let names = 0;
  let imageTokens = 0;
  for (const message of request.messages) {
    texts.push(message.role);
    for (const part of message.content) {
      if (part.type === 'text') texts.push(part.text);
      else imageTokens += part.detail === 'low' ? IMAGE_TOKENS.low : IMAGE_TOKENS.high;
    }
    if (message.role === 'assistant') {
      for (const call of message.toolCalls) texts.push(call.name, call.arguments);
      if (message.refusal !== null) texts.push(message.refusal);
    }
    if (message.role !== 'tool' && message.name) {
      texts.push(message.name);
      names++;
    }
  }
  if (request.responseFormat?.type === 'json_schema') texts.push(JSON.stringify(request.responseFormat.schema ?? {}));
  return { texts, names, imageTokens };
}

/** The quick, conservative input estimate: every input token the request can cost, for its hold. */
export function estimateInputTokens(request: ChatRequest): number {
  const { texts, names, imageTokens } = inputParts(request);
  let bytes = request.tools.length > 0 ? Buffer.byteLength(JSON.stringify(request.tools), 'utf8') : 0;
  for (const text of texts) bytes += Buffer.byteLength(text, 'utf8');
  return Math.ceil(bytes / BYTES_PER_TOKEN) + names + imageTokens + QUICK_TOKENS_PER_MESSAGE * request.messages.length + TOKENS_PER_REPLY;
}

/** The tokenizer's count of a request's input, for billing when the provider reported none. */
export async function countInputTokens(request: ChatRequest): Promise<number> {
  const { texts, names, imageTokens } = inputParts(request);
  let tokens = names + imageTokens + TOKENS_PER_MESSAGE * request.messages.length + TOKENS_PER_REPLY;
  for (const text of texts) tokens += await countTokens(text);
  return tokens + (await countToolTokens(request.tools));
}

/**
 * Tool definitions as OpenAI's models see them (the layout OpenAI's cookbook documents for its
 * gpt-4o family): a few tokens per function, property and enum item around "name:description" and
 * "property:type:description" lines.
 */
const TOOL_TOKENS = { perFunction: 7, properties: 3, perProperty: 3, enum: -3, perEnumItem: 3, end: 12 } as const;

async function countToolTokens(tools: ChatRequest['tools']): Promise<number> {
  if (tools.length === 0) return 0;
  let tokens = TOOL_TOKENS.end;
  for (const tool of tools) {
    tokens += TOOL_TOKENS.perFunction + (await countTokens(`${tool.name}:${(tool.description ?? '').replace(/\.$/, '')}`));
    const properties = tool.parameters?.properties;
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) continue;
    const entries = Object.entries(properties);
    if (entries.length === 0) continue;
    tokens += TOOL_TOKENS.properties;
    for (const [name, schema] of entries) {
      const property = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? schema : {};
      tokens += TOOL_TOKENS.perProperty;
      const items = Array.isArray(property.enum) ? property.enum : null;
      if (items) {
        tokens += TOOL_TOKENS.enum;
        for (const item of items) tokens += TOOL_TOKENS.perEnumItem + (await countTokens(String(item)));
      }
      const type = typeof property.type === 'string' ? property.type : '';
      const description = typeof property.description === 'string' ? property.description.replace(/\.$/, '') : '';
      tokens += await countTokens(`${name}:${type}:${description}`);
    }
  }
  return tokens;
}
