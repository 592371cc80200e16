import type { ChatMessage, ContentPart, TextPart, ToolCall } from '@tollgate/shared';
import { array, invalid, object, oneOf, optional, shown, string, unsupported, type Fields } from '../anthropic-messages/fields.ts';
import { LIMITS } from './limits.ts';

export const TOOL_NAME = /^[A-Za-z0-9_-]+$/;

/** A text part of any kind: input text, or output text the client sends back. */
function textPart(part: Fields, at: string): TextPart | null {
  if (part.type === 'input_text' || part.type === 'output_text') return { type: 'text', text: string(part.text, `${at}.text`) };
  return null;
}

function imagePart(part: Fields, at: string): ContentPart {
  if (part.file_id !== undefined && part.file_id !== null) throw unsupported('Images from the Files API ("file_id") are not supported: send an image_url (https or a data URL).', `${at}.file_id`);
  const url = string(part.image_url, `${at}.image_url`);
  if (!url.startsWith('https://') && !url.startsWith('http://') && !url.startsWith('data:image/')) {
    throw invalid(`"${at}.image_url" must be an http(s) URL or a data:image/ URL.`, `${at}.image_url`);
  }
  const detail = optional(part.detail, (v) => oneOf(v, `${at}.detail`, ['auto', 'low', 'high'] as const));
  return { type: 'image', url, detail };
}

function parts(value: unknown, param: string): Fields[] {
  return array(value, param, LIMITS.partsPerItem).map((raw, i) => object(raw, `${param}[${i}]`));
}

/** A user message's content: text and images. */
function userContent(value: unknown, param: string): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return parts(value, param).map((part, i) => {
    const at = `${param}[${i}]`;
    const text = textPart(part, at);
    if (text !== null) return text;
    if (part.type === 'input_image') return imagePart(part, at);
    throw unsupported(`Content parts of type ${shown(part.type)} are not supported: text and images only.`, `${at}.type`);
  });
}

/** Text-only content (system and developer messages, tool outputs). */
function textContent(value: unknown, param: string, what: string): TextPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return parts(value, param).map((part, i) => {
    const text = textPart(part, `${param}[${i}]`);
    if (text === null) throw unsupported(`${what} may hold text parts only, not ${shown(part.type)}.`, `${param}[${i}].type`);
    return text;
  });
}

/** An assistant message the client sends back: its text and refusals. */
function assistantMessage(value: unknown, param: string): Extract<ChatMessage, { role: 'assistant' }> {
  const content: TextPart[] = [];
  let refusal: string | null = null;
  if (typeof value === 'string') content.push({ type: 'text', text: value });
  else {
    parts(value, param).forEach((part, i) => {
      const at = `${param}[${i}]`;
      const text = textPart(part, at);
      if (text !== null) content.push(text);
      else if (part.type === 'refusal') refusal = (refusal ?? '') + string(part.refusal, `${at}.refusal`);
      else throw unsupported(`Assistant content parts of type ${shown(part.type)} are not supported.`, `${at}.type`);
    });
  }
  return { role: 'assistant', content, toolCalls: [], refusal, name: null };
}

function message(item: Fields, at: string): ChatMessage {
  switch (item.role) {
    case 'user':
      return { role: 'user', content: userContent(item.content, `${at}.content`), name: null };
    case 'assistant':
      return assistantMessage(item.content, `${at}.content`);
    case 'system':
    case 'developer':
      return { role: item.role, content: textContent(item.content, `${at}.content`, 'System and developer messages') };
    default:
      throw invalid(`"${at}.role" must be user, assistant, system or developer.`, `${at}.role`);
  }
}

function functionCall(item: Fields, at: string): ToolCall {
  const name = string(item.name, `${at}.name`, LIMITS.toolNameChars);
  if (!TOOL_NAME.test(name)) throw invalid(`"${at}.name" may hold letters, digits, _ and - only.`, `${at}.name`);
  return { id: string(item.call_id, `${at}.call_id`, LIMITS.callIdChars), name, arguments: string(item.arguments, `${at}.arguments`) };
}

/**
 * `input` (a string, or a list of items) as canonical messages. Messages keep their role;
 * `function_call` items join the assistant turn they follow (or open one), so a turn's parallel
 * calls stay one assistant message; each `function_call_output` is a tool message answering its
 * `call_id`. Reasoning items are dropped: their encrypted content and summaries are the provider's
 * state, which only the provider that wrote them could read. Items that point at state kept by the
 * provider (`item_reference`) or belong to built-in tools are refused.
 */
export function inputMessages(value: unknown): ChatMessage[] {
  if (typeof value === 'string') return [{ role: 'user', content: [{ type: 'text', text: value }], name: null }];
  const out: ChatMessage[] = [];
  array(value, 'input', LIMITS.inputItems).forEach((raw, i) => {
    const at = `input[${i}]`;
    const item = object(raw, at);
    switch (item.type ?? 'message') {
      case 'message':
        out.push(message(item, at));
        break;
      case 'function_call': {
        const call = functionCall(item, at);
        const last = out.at(-1);
        if (last?.role === 'assistant') last.toolCalls.push(call);
        else out.push({ role: 'assistant', content: [], toolCalls: [call], refusal: null, name: null });
        break;
      }
      case 'function_call_output':
        out.push({ role: 'tool', toolCallId: string(item.call_id, `${at}.call_id`, LIMITS.callIdChars), content: textContent(item.output, `${at}.output`, 'Function call outputs') });
        break;
      case 'reasoning':
        break;
      case 'item_reference':
        throw unsupported('The gateway stores no conversations: "item_reference" items are not supported; send the items themselves.', `${at}.type`);
      default:
        throw unsupported(`Input items of type ${shown(item.type)} are not supported: messages, function calls and their outputs only.`, `${at}.type`);
    }
  });
  return out;
}
