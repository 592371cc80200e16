import type { CacheControl, ChatMessage, ContentPart, ReasoningBlock, TextPart, ToolCall } from '@tollgate/shared';
import { ANTHROPIC_IMAGE_TYPES, dataUrl } from '@tollgate/shared/providers/anthropic/images';
import { array, boolean, invalid, object, oneOf, optional, shown, string, unsupported, type Fields } from './fields.ts';
import { LIMITS } from './limits.ts';

/**
 * A `cache_control` marker. Only the default five-minute lifetime: a one-hour cache write is priced
 * at twice the input rate, above the single cache-write rate the gateway meters, so it is refused.
 */
export function cacheControl(value: unknown, param: string): CacheControl | null {
  return optional(value, (v) => {
    const marker = object(v, param);
    if (marker.type !== 'ephemeral') throw invalid(`"${param}.type" must be "ephemeral".`, `${param}.type`);
    if (marker.ttl === '1h') throw unsupported(`"${param}.ttl": "1h" is priced above the cache-write rate the gateway meters; omit it or use "5m".`, `${param}.ttl`);
    if (marker.ttl !== undefined && marker.ttl !== null && marker.ttl !== '5m') throw invalid(`"${param}.ttl" must be "5m" or "1h".`, `${param}.ttl`);
    return { type: 'ephemeral' as const };
  });
}

/** Adds the marker only when there is one, so unmarked parts stay exactly as they were. */
function marked<T extends object>(value: T, marker: CacheControl | null): T & { cacheControl?: CacheControl } {
  return marker === null ? value : { ...value, cacheControl: marker };
}

function textPart(block: Fields, at: string): TextPart {
  return marked({ type: 'text', text: string(block.text, `${at}.text`) }, cacheControl(block.cache_control, `${at}.cache_control`));
}

function imagePart(block: Fields, at: string): ContentPart {
  const source = object(block.source, `${at}.source`);
  const marker = cacheControl(block.cache_control, `${at}.cache_control`);
  switch (source.type) {
    case 'base64': {
      const mediaType = oneOf(source.media_type, `${at}.source.media_type`, ANTHROPIC_IMAGE_TYPES);
      return marked({ type: 'image', url: dataUrl(mediaType, string(source.data, `${at}.source.data`)), detail: null }, marker);
    }
    case 'url': {
      const url = string(source.url, `${at}.source.url`);
      if (!url.startsWith('https://') && !url.startsWith('http://')) throw invalid(`"${at}.source.url" must be an http(s) URL.`, `${at}.source.url`);
      return marked({ type: 'image', url, detail: null }, marker);
    }
    case 'file':
      throw unsupported('Images from the Files API are not supported: send them as base64 or a URL.', `${at}.source.type`);
    default:
      throw invalid(`"${at}.source.type" must be base64 or url.`, `${at}.source.type`);
  }
}

function blocks(value: unknown, param: string): Fields[] {
  return array(value, param, LIMITS.blocksPerMessage, 1).map((raw, i) => object(raw, `${param}[${i}]`));
}

function unsupportedBlock(block: Fields, at: string): never {
  throw unsupported(`Content blocks of type ${shown(block.type)} are not supported here.`, at);
}

/** `system`: a string or a list of text blocks, as one system message. */
export function systemMessage(value: unknown): ChatMessage[] {
  if (typeof value === 'string') return value.length > 0 ? [{ role: 'system', content: [{ type: 'text', text: value }] }] : [];
  const content = array(value, 'system', LIMITS.systemBlocks).map((raw, i) => {
    const block = object(raw, `system[${i}]`);
    if (block.type !== 'text') throw invalid(`"system[${i}].type" must be "text".`, `system[${i}].type`);
    return textPart(block, `system[${i}]`);
  });
  return content.length > 0 ? [{ role: 'system', content }] : [];
}

function toolResult(block: Fields, at: string): ChatMessage {
  const content: TextPart[] =
    typeof block.content === 'string'
      ? [{ type: 'text', text: block.content }]
      : (optional(block.content, (v) => array(v, `${at}.content`, LIMITS.blocksPerMessage)) ?? []).map((raw, i) => {
          const inner = object(raw, `${at}.content[${i}]`);
          if (inner.type === 'text') return textPart(inner, `${at}.content[${i}]`);
          // The canonical tool result holds text; images in results have no carrier to other providers yet.
          throw unsupported(`Tool results may hold text blocks only, not ${shown(inner.type)}.`, `${at}.content[${i}]`);
        });
  const marker = cacheControl(block.cache_control, `${at}.cache_control`);
  const isError = optional(block.is_error, (v) => boolean(v, `${at}.is_error`));
  return {
    role: 'tool',
    toolCallId: string(block.tool_use_id, `${at}.tool_use_id`, LIMITS.toolIdChars),
    content,
    ...(isError === true ? { isError: true } : {}),
    ...(marker !== null ? { cacheControl: marker } : {}),
  };
}

/**
 * A user turn: its tool_result blocks become tool messages (in order, before the rest, as
 * Anthropic requires them first), its text and images one user message after them.
 */
function userTurn(content: unknown, at: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content: [{ type: 'text', text: content }], name: null }];
  const results: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocks(content, at).forEach((block, i) => {
    const here = `${at}[${i}]`;
    switch (block.type) {
      case 'text':
        parts.push(textPart(block, here));
        break;
      case 'image':
        parts.push(imagePart(block, here));
        break;
      case 'tool_result':
        results.push(toolResult(block, here));
        break;
      default:
        unsupportedBlock(block, here);
    }
  });
  return parts.length > 0 ? [...results, { role: 'user', content: parts, name: null }] : results;
}

function toolUse(block: Fields, at: string): ToolCall {
  const input = object(block.input, `${at}.input`);
  return marked(
    { id: string(block.id, `${at}.id`, LIMITS.toolIdChars), name: string(block.name, `${at}.name`, LIMITS.toolNameChars), arguments: JSON.stringify(input) },
    cacheControl(block.cache_control, `${at}.cache_control`),
  );
}

function assistantTurn(content: unknown, at: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content: [{ type: 'text', text: content }], toolCalls: [], refusal: null, name: null };
  const text: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  blocks(content, at).forEach((block, i) => {
    const here = `${at}[${i}]`;
    switch (block.type) {
      case 'text':
        text.push(textPart(block, here));
        break;
      case 'tool_use':
        toolCalls.push(toolUse(block, here));
        break;
      case 'thinking': {
        // The signature goes back as it came; an empty one (reasoning another provider produced) is none.
        const signature = string(block.signature, `${here}.signature`);
        reasoning.push({ type: 'thinking', text: string(block.thinking, `${here}.thinking`), signature: signature.length > 0 ? signature : null });
        break;
      }
      case 'redacted_thinking':
        reasoning.push({ type: 'redacted', data: string(block.data, `${here}.data`) });
        break;
      default:
        unsupportedBlock(block, here);
    }
  });
  return { role: 'assistant', content: text, toolCalls, refusal: null, name: null, ...(reasoning.length > 0 ? { reasoningBlocks: reasoning } : {}) };
}

/** `messages`: user and assistant turns into canonical messages; tool results become tool messages. */
export function conversation(value: unknown): ChatMessage[] {
  return array(value, 'messages', LIMITS.messages, 1).flatMap((raw, i): ChatMessage[] => {
    const at = `messages[${i}]`;
    const m = object(raw, at);
    if (m.role === 'user') return userTurn(m.content, `${at}.content`);
    if (m.role === 'assistant') return [assistantTurn(m.content, `${at}.content`)];
    throw invalid(`"${at}.role" must be user or assistant.`, `${at}.role`);
  });
}

/**
 * The top-level `cache_control`: Anthropic puts the breakpoint on the last block of the request,
 * so it goes on the last part of the last message.
 */
export function markLastBlock(messages: ChatMessage[], marker: CacheControl): ChatMessage[] {
  const last = messages.at(-1);
  if (last === undefined) return messages;
  const mark = <T extends object>(items: T[]): T[] => (items.length === 0 ? items : [...items.slice(0, -1), { ...items.at(-1)!, cacheControl: marker }]);
  let updated: ChatMessage;
  switch (last.role) {
    case 'tool':
      updated = { ...last, cacheControl: marker };
      break;
    case 'assistant':
      updated = last.toolCalls.length > 0 ? { ...last, toolCalls: mark(last.toolCalls) } : { ...last, content: mark(last.content) };
      break;
    case 'user':
      updated = { ...last, content: mark(last.content) };
      break;
    case 'system':
    case 'developer':
      updated = { ...last, content: mark(last.content) };
      break;
  }
  return [...messages.slice(0, -1), updated];
}
