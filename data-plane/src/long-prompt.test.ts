import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeAdapters } from '../../test/support/stores.ts';
import { SOURCE_MIN_BYTES } from './codecs/source-json.ts';
import { EXPECTED_COST, startHarness, type Harness } from './testing/harness.ts';

/**
 * A long prompt's messages pass to an OpenAI-compatible upstream as the client's own bytes, not
 * encoded again; everything the gateway decides (model, usage on streams, output cap) is still its
 * own. The bytes below are written the way JSON.stringify never writes them (spaces, `\u00e9`), so
 * the upstream's record shows which path they took.
 */
const [, makeMemoryStore] = storeAdapters.find(([name]) => name === 'memory')!;

const PROSE = 'The quarterly figures show steady growth across every region, with costs held flat. ';

function longMessages(extra = ''): string {
  const repeat = Math.ceil(SOURCE_MIN_BYTES / PROSE.length) + 10;
  return `[ { "role" : "system", "content" : "Be terse." },\n  { "role": "user", "content": "Caf\\u00e9 report:\\n${PROSE.repeat(repeat)}"${extra} } ]`;
}

describe('long prompts: the client\'s messages bytes go upstream as they came', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(makeMemoryStore);
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.fake.reset());

  it('forwards the messages verbatim and still sets the upstream model and output cap, and bills the call', async () => {
    const { orgId, key } = await h.customer(10_000_000_000n);
    const messages = longMessages();
    const response = await h.post(key.secret, `{"model":"gpt-test","max_tokens":50,"messages":${messages}}`);
    expect(response.status).toBe(200);
    await response.json();

    const upstream = h.fake.requests.at(-1)!;
    expect(upstream.rawBody).toBe(`{"messages":${messages},"model":"gpt-test-upstream","max_completion_tokens":50}`);
    expect(upstream.body).toEqual({ model: 'gpt-test-upstream', max_completion_tokens: 50, messages: JSON.parse(messages) as unknown });
    const event = await h.settledEvent(response.headers.get('x-request-id')!);
    expect([event.status, event.cost]).toEqual(['ok', EXPECTED_COST.toString()]);
    expect((await h.store.getBalance(orgId))?.balance).toBe(10_000_000_000n - EXPECTED_COST);
  });

  it('asks for usage on a stream while the messages pass verbatim', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const messages = longMessages();
    const response = await h.post(key.secret, `{"model":"gpt-test","stream":true,"messages":${messages}}`);
    expect(response.status).toBe(200);
    await response.text();
    expect(h.fake.requests.at(-1)!.rawBody).toBe(`{"messages":${messages},"model":"gpt-test-upstream","stream":true,"stream_options":{"include_usage":true}}`);
  });

  it('re-serialises messages that hold a field the gateway does not pass on', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const messages = longMessages(', "cache_hint": "ignored"');
    const response = await h.post(key.secret, `{"model":"gpt-test","messages":${messages}}`);
    expect(response.status).toBe(200);
    await response.json();
    const expected = (JSON.parse(messages) as Record<string, unknown>[]).map(({ cache_hint: _, ...m }) => m);
    const upstream = h.fake.requests.at(-1)!;
    expect(upstream.rawBody).toBe(JSON.stringify({ model: 'gpt-test-upstream', messages: expected }));
  });

  it('re-serialises messages in which a key repeats: which one a provider keeps is not ours to guess', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const messages = longMessages(', "role": "user"');
    const response = await h.post(key.secret, `{"model":"gpt-test","messages":${messages}}`);
    expect(response.status).toBe(200);
    await response.json();
    expect(h.fake.requests.at(-1)!.rawBody).toBe(JSON.stringify({ model: 'gpt-test-upstream', messages: JSON.parse(messages) as unknown }));
  });

  it('re-serialises a short body, where that is cheaper than finding the bytes', async () => {
    const { key } = await h.customer(10_000_000_000n);
    const response = await h.post(key.secret, '{"model":"gpt-test","messages":[ { "role" : "user", "content" : "Caf\\u00e9?" } ]}');
    expect(response.status).toBe(200);
    await response.json();
    expect(h.fake.requests.at(-1)!.rawBody).toBe('{"model":"gpt-test-upstream","messages":[{"role":"user","content":"Café?"}]}');
  });
});
