import type { ChatMessage, ChatRequest, ContentPart, ImagePart, JsonObject, ToolCall, ToolChoice } from '../../canonical/chat.ts';
import { GatewayError } from '../../errors.ts';
import type { PreparedRequest, UpstreamTarget } from '../adapter.ts';
import { uriEncode } from './sigv4.ts';

/**
 * The Converse / ConverseStream request from the canonical one (Bedrock API reference, "Converse"):
 * `POST /model/{modelId}/converse` (or `/converse-stream`) with a body of `messages`, `system`,
 * `inferenceConfig` and `toolConfig`. The model id travels in the path, encoded as one segment: an
 * id such as `anthropic.claude-3-5-sonnet-20240620-v1:0` goes out as `...-v1%3A0`, and an inference
 * profile ARN keeps its `/` inside the segment as `%2F`.
 *
 * What Converse cannot carry is refused with a 400 rather than dropped, when dropping would change
 * the answer the client gets: `n` > 1, logprobs, a json_schema response format, image URLs.
 * Knobs that only tune sampling and have no Converse field (seed, penalties, logit_bias, user,
 * parallel_tool_calls, strict, reasoning_effort) are not sent.
 */

type Block = Record<string, unknown>;

interface ConverseMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

/** Converse's image formats, by the MIME type of a data URL. */
const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const EMPTY_SCHEMA: JsonObject = { type: 'object', properties: {} };

function unsupported(message: string, param: string): GatewayError {
  return new GatewayError('unsupported_parameter', message, param);
}

/**
 * An inline image block from a base64 `data:` URL. Converse takes image bytes (or an S3 location
 * in the caller's own account), never an http(s) URL, and the gateway does not fetch URLs for a
 * provider: fetching would let a request make the gateway reach any address. Such images are
 * refused; the client can send the image inline.
 */
function imageBlock(part: ImagePart, param: string): Block {
  const url = part.url;
  if (!url.startsWith('data:')) {
    throw unsupported('AWS Bedrock does not accept image URLs: send the image inline as a base64 data: URL (png, jpeg, gif or webp).', param);
  }
  const comma = url.indexOf(',');
  const meta = comma === -1 ? '' : url.slice(5, comma).toLowerCase();
  if (!meta.endsWith(';base64')) throw unsupported('An image data: URL must be base64-encoded (data:image/png;base64,...).', param);
  const format = IMAGE_FORMATS[meta.slice(0, -';base64'.length)];
  if (format === undefined) throw unsupported('AWS Bedrock takes png, jpeg, gif or webp images.', param);
  return { image: { format, source: { bytes: url.slice(comma + 1) } } };
}

/**
 * A tool call's input: Converse wants the JSON object itself, where the canonical call holds the
 * model's text. Empty text is the empty object (a call without arguments); anything else that is
 * not a JSON object is refused rather than guessed at or silently replaced, since the next turn
 * would then show the model a call it never made.
 */
function toolInput(call: ToolCall, param: string): JsonObject {
  if (call.arguments.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.arguments);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', 'The arguments of an assistant tool call must be a JSON object to be sent to AWS Bedrock.', param);
  }
  return parsed as JsonObject;
}

function userBlocks(parts: ContentPart[], param: string): Block[] {
  return parts.map((p) => (p.type === 'text' ? { text: p.text } : imageBlock(p, param)));
}

function isBlankText(block: Block): boolean {
  return typeof block.text === 'string' && block.text.trim() === '';
}

/**
 * Converse rejects blank text blocks. OpenAI clients send `"content": ""` beside tool calls, so a
 * blank text is dropped when the message has something else; a message of blank text alone is
 * sent as it is, for Bedrock to answer.
 */
function withoutBlankText(blocks: Block[]): Block[] {
  return blocks.some((b) => !isBlankText(b)) ? blocks.filter((b) => !isBlankText(b)) : blocks;
}

interface Converted {
  system: Block[];
  messages: ConverseMessage[];
  usesTools: boolean;
}

/**
 * System and developer messages become the top-level `system` list, in order, wherever they were.
 * Tool results become `toolResult` blocks of a user message. Converse wants user and assistant
 * turns to alternate, so consecutive messages of one role (several tool results, then the user's
 * next words) are merged into one.
 */
function convertMessages(messages: ChatMessage[]): Converted {
  const system: Block[] = [];
  const out: ConverseMessage[] = [];
  let usesTools = false;
  const append = (role: ConverseMessage['role'], content: Block[]): void => {
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else out.push({ role, content });
  };
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        for (const part of m.content) if (part.text.trim() !== '') system.push({ text: part.text });
        break;
      case 'user':
        append('user', withoutBlankText(userBlocks(m.content, `${param}.content`)));
        break;
      case 'assistant': {
        const blocks: Block[] = m.content.map((p) => ({ text: p.text }));
        if (m.refusal !== null) blocks.push({ text: m.refusal });
        m.toolCalls.forEach((call, j) => {
          usesTools = true;
          blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: toolInput(call, `${param}.tool_calls[${j}].function.arguments`) } });
        });
        append('assistant', withoutBlankText(blocks));
        break;
      }
      case 'tool':
        usesTools = true;
        append('user', [{ toolResult: { toolUseId: m.toolCallId, content: m.content.map((p) => ({ text: p.text })) } }]);
        break;
    }
  });
  return { system, messages: out, usesTools };
}

function toolChoice(choice: ToolChoice): Block | null {
  switch (choice.type) {
    case 'auto':
      return { auto: {} };
    case 'required':
      return { any: {} };
    case 'function':
      return { tool: { name: choice.name } };
    case 'none':
      return null;
  }
}

/** Refuses what Converse cannot do for this request (see the module comment). */
function refuseUnsupported(request: ChatRequest): void {
  if (request.n !== 1) throw unsupported('AWS Bedrock returns one choice per request: "n" must be 1.', 'n');
  if (request.sampling.logprobs === true || request.sampling.topLogprobs !== null) {
    throw unsupported('AWS Bedrock does not return logprobs.', 'logprobs');
  }
  if (request.responseFormat?.type === 'json_schema') {
    throw unsupported('AWS Bedrock (Converse) does not take a json_schema response format through the gateway yet.', 'response_format');
  }
}

/**
 * The Converse body. `response_format: json_object` is not sent: OpenAI's JSON mode already needs
 * the prompt to ask for JSON, which the model sees. Tool choice `none` has no Converse form: the
 * tools are left out, unless the conversation already holds tool calls or results, for which
 * Bedrock requires `toolConfig`; then the tools go without a choice and the model may still call one.
 */
export function converseBody(request: ChatRequest): Record<string, unknown> {
  refuseUnsupported(request);
  const { system, messages, usesTools } = convertMessages(request.messages);
  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;

  const s = request.sampling;
  const inference: Record<string, unknown> = {};
  if (request.maxOutputTokens !== null) inference.maxTokens = request.maxOutputTokens;
  if (s.temperature !== null) inference.temperature = s.temperature;
  if (s.topP !== null) inference.topP = s.topP;
  if (s.stop.length > 0) inference.stopSequences = s.stop;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  // Converse's stopReason does not say which sequence matched; Anthropic models report it as their
  // own `stop_sequence` field when asked, and Converse ignores the path for models without it.
  if (s.stop.length > 0) body.additionalModelResponseFieldPaths = ['/stop_sequence'];

  const choice = request.toolChoice;
  if (request.tools.length > 0 && (choice?.type !== 'none' || usesTools)) {
    const tools = request.tools.map((t) => ({
      toolSpec: {
        name: t.name,
        ...(t.description !== null && t.description !== '' ? { description: t.description } : {}),
        inputSchema: { json: t.parameters ?? EMPTY_SCHEMA },
      },
    }));
    const mapped = choice === null ? null : toolChoice(choice);
    body.toolConfig = mapped === null ? { tools } : { tools, toolChoice: mapped };
  }
  return body;
}

/** The HTTP request before signing; `sign` adds x-amz-date, the session token and authorization. */
export function converseRequest(request: ChatRequest, target: UpstreamTarget): PreparedRequest {
  if (target.credential.kind !== 'aws') throw new TypeError(`AWS Bedrock takes an aws credential, not a ${target.credential.kind} credential`);
  const action = request.stream ? 'converse-stream' : 'converse';
  return {
    method: 'POST',
    origin: target.origin,
    path: `${target.basePath}/model/${uriEncode(target.upstreamModel)}/${action}`,
    headers: {
      ...target.extraHeaders,
      'content-type': 'application/json',
      accept: request.stream ? 'application/vnd.amazon.eventstream' : 'application/json',
      // Compressed bodies are not asked for: the relay counts and bounds plain bytes.
      'accept-encoding': 'identity',
    },
    body: JSON.stringify(converseBody(request)),
  };
}
