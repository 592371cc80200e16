import type { ChatMessage, ToolCall } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import { imagePart } from './images.ts';

type Part = Record<string, unknown>;
export interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

/**
 * Google's documented stand-in for a thought signature the caller does not have (a conversation
 * whose history came through a client that drops them, or from another model). Gemini 3 refuses
 * a replayed function call without one with a 400; with this it skips the check.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/**
 * Canonical messages into Gemini `contents` and a `systemInstruction`:
 * - system and developer messages, wherever they stand, become the one `systemInstruction`, in
 *   order (Gemini has no system turns); a conversation of system messages only is sent as a user
 *   turn, since Gemini needs at least one content;
 * - user → role `user` (text, and images, see images.ts); assistant → role `model` (text, a
 *   refusal as text, then one `functionCall` part per tool call with its arguments parsed);
 * - a tool message → a `functionResponse` part in a `user` turn, named after the call with the same
 *   id in an earlier assistant message (Gemini matches results by name and order, not id), with
 *   the tool's text as `{"output": text}` (`{"error": text}` for a failed tool); a result
 *   answering no earlier call is refused;
 * - consecutive tool results share one turn (Gemini wants as many responses in the turn after a
 *   call turn as that turn had calls); every other message is its own turn, as Gemini takes
 *   consecutive turns of one role; empty text parts are dropped, Gemini refuses them.
 * Call ids are not sent: the Gemini API does not require them, and ids the gateway generated
 * would mean nothing to it.
 */
export function geminiContents(messages: readonly ChatMessage[]): { contents: Content[]; systemInstruction: { parts: Part[] } | null } {
  const system: Part[] = [];
  const contents: Content[] = [];
  const callNames = new Map<string, string>();
  /** The turn holding the tool results read so far, while no other message came after them. */
  let results: Content | null = null;
  const push = (role: Content['role'], parts: Part[]): void => {
    if (parts.length === 0) return;
    results = null;
    contents.push({ role, parts });
  };
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...texts(m.content));
        break;
      case 'user':
        push(
          'user',
          m.content.flatMap((p, j) => (p.type === 'text' ? texts([p]) : [imagePart(p.url, `messages[${i}].content[${j}]`)])),
        );
        break;
      case 'assistant': {
        const parts = texts(m.content);
        if (m.refusal) parts.push({ text: m.refusal });
        m.toolCalls.forEach((call, k) => {
          callNames.set(call.id, call.name);
          parts.push(functionCall(call, k === 0));
        });
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = callNames.get(m.toolCallId);
        if (name === undefined) {
          throw new GatewayError('invalid_request', `The tool result in messages[${i}] answers no tool call of an earlier assistant message.`, `messages[${i}].tool_call_id`);
        }
        // Gemini reads `output` as the function's result and `error` as its failure.
        const text = m.content.map((p) => p.text).join('');
        const response = { functionResponse: { name, response: m.isError === true ? { error: text } : { output: text } } };
        if (results === null) {
          results = { role: 'user', parts: [] };
          contents.push(results);
        }
        results.parts.push(response);
        break;
      }
    }
  });
  if (contents.length === 0 && system.length > 0) return { contents: [{ role: 'user', parts: system }], systemInstruction: null };
  return { contents, systemInstruction: system.length > 0 ? { parts: system } : null };
}

function texts(parts: readonly { text: string }[]): Part[] {
  return parts.filter((p) => p.text.length > 0).map((p) => ({ text: p.text }));
}

/**
 * A replayed call. Gemini wants `args` as an object: arguments that are not a JSON object (a cut
 * stream's half) are sent as `{}`. The call's own signature goes back when the gateway has it;
 * otherwise the first call of the turn carries the stand-in, as Gemini signs only the first of
 * parallel calls.
 */
function functionCall(call: ToolCall, first: boolean): Part {
  const signature = call.signature ?? (first ? SKIP_SIGNATURE : null);
  return { functionCall: { name: call.name, args: parseObject(call.arguments) }, ...(signature !== null ? { thoughtSignature: signature } : {}) };
}

function parseObject(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
