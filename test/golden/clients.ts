import Anthropic from '@anthropic-ai/sdk';
import { totalInput, totalOutput, type Usage } from '@tollgate/shared';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Response, ResponseInputItem } from 'openai/resources/responses/responses';
import { CALLS, IMAGE_URL, PNG_BASE64, QUESTION, resultFor, SYSTEM, TOOLS, type Meaning } from './conversation.ts';

/**
 * The golden conversation driven through an official SDK, as an application would: the second
 * turn is built from what the SDK returned for the first (the assistant turn as it came back, the
 * call ids it named). Each request carries its own `x-request-id`, to find its settlement.
 */
export interface GoldenClient {
  format: 'openai-chat' | 'anthropic-messages' | 'openai-responses';
  /** Both turns, streamed or not; `requestIds` name them. */
  converse(model: string, stream: boolean, requestIds: readonly [string, string]): Promise<[Meaning, Meaning]>;
  /** How this format says "stopped to call tools" and "finished". */
  finishes: readonly [string, string];
  /** The usage this format shows for a billed vector. */
  usage(billed: Usage): Meaning['usage'];
  /** The image detail this client's request carries (the Responses API names one on every image). */
  imageDetail: 'auto' | null;
}

const headers = (requestId: string) => ({ headers: { 'x-request-id': requestId } });

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions

const chatUsage = (u: ChatCompletion['usage'] | null | undefined): Meaning['usage'] => ({
  prompt_tokens: u?.prompt_tokens ?? null,
  cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? null,
  completion_tokens: u?.completion_tokens ?? null,
  reasoning_tokens: u?.completion_tokens_details?.reasoning_tokens ?? null,
});

export function chatClient(baseURL: string, apiKey: string): GoldenClient {
  const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });
  const tools = TOOLS.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } }));
  const turn = async (model: string, messages: ChatCompletionMessageParam[], stream: boolean, requestId: string): Promise<ChatCompletion> => {
    if (!stream) return client.chat.completions.create({ model, messages, tools }, headers(requestId));
    const s = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } }, headers(requestId));
    let usage: ChatCompletion['usage'];
    s.on('chunk', (chunk) => void (usage = chunk.usage ?? usage));
    const completion = await s.finalChatCompletion();
    return { ...completion, usage };
  };
  const meaning = (c: ChatCompletion): Meaning => {
    const choice = c.choices[0]!;
    return {
      text: choice.message.content ?? '',
      toolCalls: (choice.message.tool_calls ?? []).map((t) => (t.type === 'function' ? { id: t.id, name: t.function.name, input: JSON.parse(t.function.arguments) as unknown } : { id: t.id, name: t.type, input: null })),
      finish: choice.finish_reason,
      usage: chatUsage(c.usage),
    };
  };
  return {
    format: 'openai-chat',
    finishes: ['tool_calls', 'stop'],
    imageDetail: null,
    usage: (u) => ({ prompt_tokens: totalInput(u), cached_tokens: u.cachedInput, completion_tokens: totalOutput(u), reasoning_tokens: u.reasoning }),
    async converse(model, stream, [first, second]) {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: [{ type: 'text', text: QUESTION }, { type: 'image_url', image_url: { url: IMAGE_URL } }] },
      ];
      const one = await turn(model, messages, stream, first);
      const said = one.choices[0]!.message;
      const calls = (said.tool_calls ?? []).flatMap((t) => (t.type === 'function' ? [t] : []));
      messages.push({ role: 'assistant', content: said.content, tool_calls: calls.map((t) => ({ id: t.id, type: 'function', function: t.function })) });
      for (const call of calls) messages.push({ role: 'tool', tool_call_id: call.id, content: resultFor(call.function.name) });
      const two = await turn(model, messages, stream, second);
      return [meaning(one), meaning(two)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

export function messagesClient(baseURL: string, apiKey: string): GoldenClient {
  const client = new Anthropic({ apiKey, baseURL, maxRetries: 0 });
  const tools = TOOLS.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  const turn = (model: string, messages: Anthropic.MessageParam[], stream: boolean, requestId: string): Promise<Anthropic.Message> => {
    const params = { model, max_tokens: 1024, system: SYSTEM, tools, messages };
    return stream ? client.messages.stream(params, headers(requestId)).finalMessage() : client.messages.create(params, headers(requestId));
  };
  const meaning = (m: Anthropic.Message): Meaning => ({
    text: m.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
    toolCalls: m.content.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, input: b.input }] : [])),
    finish: m.stop_reason,
    usage: { input_tokens: m.usage.input_tokens, cache_read_input_tokens: m.usage.cache_read_input_tokens, cache_creation_input_tokens: m.usage.cache_creation_input_tokens, output_tokens: m.usage.output_tokens },
  });
  return {
    format: 'anthropic-messages',
    finishes: ['tool_use', 'end_turn'],
    imageDetail: null,
    usage: (u) => ({ input_tokens: u.input, cache_read_input_tokens: u.cachedInput, cache_creation_input_tokens: u.cacheWrite, output_tokens: totalOutput(u) }),
    async converse(model, stream, [first, second]) {
      const messages: Anthropic.MessageParam[] = [
        {
          role: 'user',
          content: [
            { type: 'text', text: QUESTION },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
          ],
        },
      ];
      const one = await turn(model, messages, stream, first);
      messages.push({ role: 'assistant', content: one.content });
      messages.push({
        role: 'user',
        content: one.content.flatMap((b) => (b.type === 'tool_use' ? [{ type: 'tool_result' as const, tool_use_id: b.id, content: resultFor(b.name) }] : [])),
      });
      const two = await turn(model, messages, stream, second);
      return [meaning(one), meaning(two)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses

export function responsesClient(baseURL: string, apiKey: string): GoldenClient {
  const client = new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 });
  const tools = TOOLS.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters, strict: false }));
  const turn = (model: string, input: ResponseInputItem[], stream: boolean, requestId: string): Promise<Response> => {
    const params = { model, instructions: SYSTEM, input, tools };
    return stream ? client.responses.stream(params, headers(requestId)).finalResponse() : client.responses.create(params, headers(requestId));
  };
  const meaning = (r: Response): Meaning => ({
    text: r.output_text,
    toolCalls: r.output.flatMap((item) => (item.type === 'function_call' ? [{ id: item.call_id, name: item.name, input: JSON.parse(item.arguments) as unknown }] : [])),
    finish: r.status ?? null,
    usage: {
      input_tokens: r.usage?.input_tokens ?? null,
      cached_tokens: r.usage?.input_tokens_details.cached_tokens ?? null,
      output_tokens: r.usage?.output_tokens ?? null,
      reasoning_tokens: r.usage?.output_tokens_details.reasoning_tokens ?? null,
    },
  });
  return {
    format: 'openai-responses',
    finishes: ['completed', 'completed'],
    imageDetail: 'auto',
    usage: (u) => ({ input_tokens: totalInput(u), cached_tokens: u.cachedInput, output_tokens: totalOutput(u), reasoning_tokens: u.reasoning }),
    async converse(model, stream, [first, second]) {
      const input: ResponseInputItem[] = [
        { role: 'user', content: [{ type: 'input_text', text: QUESTION }, { type: 'input_image', image_url: IMAGE_URL, detail: 'auto' }] },
      ];
      const one = await turn(model, input, stream, first);
      // As the Responses API asks: the output items go back as they came, then each call's output.
      input.push(...(one.output as ResponseInputItem[]));
      for (const item of one.output) if (item.type === 'function_call') input.push({ type: 'function_call_output', call_id: item.call_id, output: resultFor(item.name) });
      const two = await turn(model, input, stream, second);
      return [meaning(one), meaning(two)];
    },
  };
}

/** Every call the golden answer makes, in order, as the client must see it, given the ids it got. */
export function expectedCalls(ids: readonly [string, string]): Meaning['toolCalls'] {
  return CALLS.map((c, i) => ({ id: ids[i]!, name: c.name, input: c.input }));
}
