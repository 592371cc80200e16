import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, rawBytes, startUpstream, type Behavior, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { channelRecord, modelRoute, price } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'src', 'providers', 'openai', '__fixtures__');

interface Accumulated {
  choices: Record<number, { role: string | null; content: string; reasoning: string; refusal: string; tools: Record<number, { id: string; name: string; arguments: string }>; finish: string | null }>;
  usage: unknown;
  ids: string[];
  errors: unknown[];
  done: boolean;
}

/** What an OpenAI client makes of a stream: each choice's message, tool calls, finish reason, usage. */
function accumulate(text: string): Accumulated {
  const out: Accumulated = { choices: {}, usage: null, ids: [], errors: [], done: false };
  for (const event of text.split('\n\n')) {
    if (!event.startsWith('data: ')) continue;
    const data = event.slice(6);
    if (data === '[DONE]') {
      out.done = true;
      continue;
    }
    const chunk = JSON.parse(data) as {
      id?: string;
      error?: unknown;
      usage?: unknown;
      choices?: { index: number; finish_reason?: string | null; delta?: { role?: string; content?: string | null; reasoning_content?: string; refusal?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] } }[];
    };
    if (chunk.error) out.errors.push(chunk.error);
    if (chunk.id && !out.ids.includes(chunk.id)) out.ids.push(chunk.id);
    if (chunk.usage) out.usage = chunk.usage;
    for (const c of chunk.choices ?? []) {
      const acc = (out.choices[c.index] ??= { role: null, content: '', reasoning: '', refusal: '', tools: {}, finish: null });
      acc.role ??= c.delta?.role ?? null;
      acc.content += c.delta?.content ?? '';
      acc.reasoning += c.delta?.reasoning_content ?? '';
      acc.refusal += c.delta?.refusal ?? '';
      for (const t of c.delta?.tool_calls ?? []) {
        const tool = (acc.tools[t.index] ??= { id: '', name: '', arguments: '' });
        tool.id += t.id ?? '';
        tool.name += t.function?.name ?? '';
        tool.arguments += t.function?.arguments ?? '';
      }
      if (c.finish_reason) acc.finish = c.finish_reason;
    }
  }
  return out;
}

const recorded: [string, Behavior][] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.sse'))
  .map((f) => [`recorded ${f}`, rawBytes([readFileSync(join(FIXTURES, f))])]);

const generated: [string, Behavior][] = [
  ['text', answer({ reply: 'Bonjour à tous 👋, the answer is 42.', chunks: 7, usage: { promptTokens: 21, completionTokens: 9, cachedTokens: 4 } })],
  ['two parallel tool calls', answer({ reply: '', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}', argumentChunks: 4 }, { name: 'get_time', arguments: '{"tz":"Europe/Paris"}', argumentChunks: 3 }], usage: { promptTokens: 50, completionTokens: 20 } })],
  ['reasoning tokens', answer({ reply: 'Thought it through.', chunks: 3, usage: { promptTokens: 30, completionTokens: 200, reasoningTokens: 180 } })],
  ['no usage reported', answer({ reply: 'no usage here', chunks: 2, usage: null })],
];

/**
 * The passthrough fast path (provider bytes forwarded) against the general path (rendered from
 * canonical events): for every recorded and generated stream, the client must end up with the same
 * messages, tool calls, finish reasons and usage, and the books with the same usage and cost.
 */
describe('passthrough and the general path', () => {
  let fast: Gateway;
  let general: Gateway;
  let up: FakeUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    fast = await startGateway(storeAdapters[0]![1], { passthrough: true });
    general = await startGateway(storeAdapters[0]![1], { passthrough: false });
    for (const gw of [fast, general]) {
      await gw.publish({ channels: [channelRecord(gw.masterKey, 'ch', { baseUrl: up.url })], models: [modelRoute('m', { prices: { resale: PRICE }, targets: [{ channelId: 'ch' }] })] });
    }
  });
  afterAll(async () => {
    await fast?.stop();
    await general?.stop();
    await up?.close();
  });

  async function run(gw: Gateway, behavior: Behavior, includeUsage: boolean) {
    const { key } = await gw.customer(100_000_000_000n);
    up.enqueue(behavior);
    const response = await gw.post(key.secret, { model: 'm', stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content: 'hi' }] });
    const text = await response.text();
    const event = await gw.settled(response.headers.get('x-request-id')!);
    return { client: accumulate(text), raw: text, usage: event.usage, source: event.usageSource, cost: event.cost, status: event.status };
  }

  it('has at least one recorded capture to replay', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(1);
  });

  describe.each([...recorded, ...generated])('%s', (_name, behavior) => {
    it.each([true, false])('gives the same answer and the same bill (include_usage: %s)', async (includeUsage) => {
      const a = await run(fast, behavior, includeUsage);
      const b = await run(general, behavior, includeUsage);
      expect(b.client.choices).toEqual(a.client.choices);
      expect([b.client.done, b.client.errors]).toEqual([a.client.done, a.client.errors]);
      expect([b.usage, b.source, b.cost, b.status]).toEqual([a.usage, a.source, a.cost, a.status]);
      // Whoever asked for usage got the same figures from either path (estimated when the provider sent
      // none), unless the stream broke. Unasked, the general path sends none; passthrough may show what
      // a provider put inside its last content chunk (harmless to OpenAI clients).
      const complete = a.client.errors.length === 0;
      expect(b.client.usage).toEqual(includeUsage && complete ? expect.objectContaining(usageFields(a.client.usage)) : null);
      expect(a.client.usage === null).toBe(!(includeUsage && complete) && !insideLastChunk(a.raw));
    });
  });
});

/** The provider sent usage inside a chunk that also carries choices (DeepSeek does, unasked). */
function insideLastChunk(text: string): boolean {
  return text.split('\n\n').some((e) => e.startsWith('data: {') && e.includes('"usage":{') && !e.includes('"choices":[]'));
}

/** The usage fields both paths report (the provider may add others, e.g. audio token details). */
function usageFields(usage: unknown) {
  const u = usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
}
