import type { ChatResponse, GatewayError, Usage } from '@tollgate/shared';
import { writeResponseFinish } from '@tollgate/shared/providers/openai-responses/finish';
import type { RenderContext } from '../codec.ts';
import { functionCallItem, messageItem, OutputIds, reasoningItem, responseError, responseObject, type ContentPartText } from './output.ts';

/**
 * A whole `response`, with the usage that was billed. Its output, in the order the Responses API
 * gives it: the reasoning, the message (its text, then its refusal), then one `function_call` item
 * per tool call, carrying the call's id as `call_id`. The Responses API has one answer per request:
 * choice 0.
 */
export function renderResponsesResponse(response: ChatResponse, usage: Usage, ctx: RenderContext): string {
  const choice = response.choices.find((c) => c.index === 0) ?? response.choices[0];
  const ids = new OutputIds(ctx.requestId);
  const { status, incomplete_details } = writeResponseFinish(choice?.finishReason ?? 'stop');
  const itemStatus = status === 'completed' ? 'completed' : 'incomplete';
  const output: Record<string, unknown>[] = [];
  if (choice?.reasoning) output.push(reasoningItem(ids.item('rs', output.length), choice.reasoning));
  const parts: ContentPartText[] = [];
  if (choice?.text !== null && choice?.text !== undefined) parts.push({ type: 'output_text', text: choice.text });
  if (choice?.refusal) parts.push({ type: 'refusal', text: choice.refusal });
  if (parts.length > 0) output.push(messageItem(ids.item('msg', output.length), parts, itemStatus));
  // Call ids must be unique within a response: a provider's repeated id is replaced by one of ours.
  const taken = new Set<string>();
  (choice?.toolCalls ?? []).forEach((call, i) => {
    const id = taken.has(call.id) ? ids.call(i) : call.id;
    taken.add(id);
    output.push(functionCallItem(ids.item('fc', output.length), { ...call, id }, itemStatus));
  });
  return JSON.stringify(
    responseObject({
      id: ids.response(response.id || null),
      createdAt: response.created,
      model: response.model || ctx.model,
      status,
      incompleteDetails: incomplete_details,
      error: status === 'failed' ? responseError('The provider failed while answering; the answer is incomplete.') : null,
      output,
      usage,
    }),
  );
}

/** The Responses API's error body is OpenAI's: `{"error": {"message", "type", "code", "param"}}`. */
export function renderResponsesError(error: GatewayError): string {
  return error.toBody();
}
