import type { ChatMessage, ContentPart, TextPart } from '../../canonical/chat.ts';

type Item = Record<string, unknown>;

function textOf(parts: TextPart[]): string {
  return parts.map((p) => p.text).join('');
}

function inputPart(part: ContentPart): Item {
  // The Responses API wants a detail on every image; `auto` is its own default.
  return part.type === 'text' ? { type: 'input_text', text: part.text } : { type: 'input_image', image_url: part.url, detail: part.detail ?? 'auto' };
}

/**
 * The canonical conversation as `instructions` and `input` items. The system and developer
 * messages that open the conversation become `instructions` (joined by blank lines); later ones
 * stay in place as messages of their role. An assistant turn is a message of `output_text` and
 * `refusal` parts followed by one `function_call` item per tool call; a tool result is a
 * `function_call_output`. Call ids travel unchanged both ways, so a call and its output still pair
 * up whichever provider made the call. Reasoning blocks are not sent: their signatures and
 * encrypted content belong to the provider that wrote them.
 */
export function responsesInput(messages: readonly ChatMessage[]): { instructions: string | null; input: Item[] } {
  const leading: string[] = [];
  let i = 0;
  for (; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'system' && m.role !== 'developer') break;
    leading.push(textOf(m.content));
  }
  const input: Item[] = [];
  for (const m of messages.slice(i)) {
    switch (m.role) {
      case 'system':
      case 'developer':
        input.push({ type: 'message', role: m.role, content: textOf(m.content) });
        break;
      case 'user':
        input.push({ type: 'message', role: 'user', content: m.content.map(inputPart) });
        break;
      case 'assistant': {
        const content: Item[] = m.content.map((p) => ({ type: 'output_text', text: p.text }));
        if (m.refusal !== null) content.push({ type: 'refusal', refusal: m.refusal });
        if (content.length > 0) input.push({ type: 'message', role: 'assistant', content });
        for (const call of m.toolCalls) input.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments });
        break;
      }
      case 'tool':
        input.push({ type: 'function_call_output', call_id: m.toolCallId, output: textOf(m.content) });
        break;
    }
  }
  return { instructions: leading.length > 0 ? leading.join('\n\n') : null, input };
}
