import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRoute, price } from '../../data-plane/src/testing/fixture.ts';
import { startGateway, type Gateway } from '../../data-plane/src/testing/gateway.ts';
import { storeAdapters } from '../support/stores.ts';
import { chatClient, expectedCalls, messagesClient, responsesClient, type GoldenClient } from './clients.ts';
import { ANSWER, PREAMBLE } from './conversation.ts';
import { goldenChannels, goldenUpstreams, KEYS, startFakes, UPSTREAM_MODELS, type GoldenFakes, type GoldenUpstream } from './upstreams.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const CLIENTS = ['openai-chat', 'anthropic-messages', 'openai-responses'] as const;
const PROTOCOLS = ['openai', 'anthropic', 'gemini', 'bedrock', 'openai-responses'] as const;
/** Pairs where the upstream speaks the client's format: served on the passthrough path, and on the general path too. */
const NATIVE: Record<(typeof CLIENTS)[number], (typeof PROTOCOLS)[number]> = { 'openai-chat': 'openai', 'anthropic-messages': 'anthropic', 'openai-responses': 'openai-responses' };

/** The endpoint each client format calls, as settlements name it. */
const ENDPOINTS: Record<(typeof CLIENTS)[number], string> = { 'openai-chat': 'chat', 'anthropic-messages': 'messages', 'openai-responses': 'responses' };

type Path = 'passthrough' | 'general';
const CASES = CLIENTS.flatMap((client) =>
  PROTOCOLS.flatMap((protocol) => {
    const paths: Path[] = NATIVE[client] === protocol ? ['passthrough', 'general'] : ['general'];
    return paths.flatMap((path) => [false, true].flatMap((stream) => [PREAMBLE, null].map((preamble) => ({ client, protocol, path, stream, preamble }))));
  }),
);

/**
 * The golden conversation (conversation.ts) through every translation: each client format, through
 * its official SDK, against each upstream protocol's fake, streamed and not, and for the pairs that
 * share a format both passed through and translated via the canonical form. Each case checks that
 * the client understood the same thing (text, the two calls with the upstream's call ids, the
 * finish, the usage shown), that the upstream received the conversation in its own native form
 * (the image as its image, the calls and results paired by those ids in the second turn, the
 * credential where it belongs), and that the settlement bills exactly what the upstream reported.
 */
describe('the golden conversation', () => {
  let fakes: GoldenFakes;
  let upstreams: Map<string, GoldenUpstream>;
  const gateways = new Map<Path, Gateway>();
  const clients = new Map<string, GoldenClient>();

  beforeAll(async () => {
    fakes = await startFakes();
    upstreams = new Map(goldenUpstreams(fakes).map((u) => [u.protocol, u]));
    for (const path of ['passthrough', 'general'] as const) {
      const gw = await startGateway(storeAdapters[0]![1], { passthrough: path === 'passthrough' });
      await gw.publish({
        channels: goldenChannels(gw.masterKey, fakes),
        models: PROTOCOLS.map((p) => modelRoute(upstreams.get(p)!.model, { prices: { resale: PRICE }, targets: [{ channelId: p, upstreamModel: UPSTREAM_MODELS[p] }] })),
      });
      const { key } = await gw.customer(1_000_000_000_000n);
      gateways.set(path, gw);
      clients.set(`${path} openai-chat`, chatClient(gw.base, key.secret));
      clients.set(`${path} anthropic-messages`, messagesClient(gw.base, key.secret));
      clients.set(`${path} openai-responses`, responsesClient(gw.base, key.secret));
    }
  });
  afterAll(async () => {
    for (const gw of gateways.values()) await gw.stop();
    await Promise.all(Object.values(fakes ?? {}).map((f: { close(): Promise<void> }) => f.close()));
  });

  it.each(CASES)('$client client, $protocol upstream, $path path, streamed: $stream, preamble: $preamble', async ({ client: format, protocol, path, stream, preamble }) => {
    const upstream = upstreams.get(protocol)!;
    const client = clients.get(`${path} ${format}`)!;
    const gw = gateways.get(path)!;
    const seenBefore = upstream.received().length;
    upstream.script(preamble);
    const requestIds = [`golden-${randomUUID()}`, `golden-${randomUUID()}`] as const;

    const [first, second] = await client.converse(upstream.model, stream, requestIds);

    expect(first).toEqual({ text: preamble ?? '', toolCalls: expectedCalls(upstream.callIds), finish: client.finishes[0], usage: client.usage(upstream.billed[0]) });
    expect(second).toEqual({ text: ANSWER, toolCalls: [], finish: client.finishes[1], usage: client.usage(upstream.billed[1]) });

    const received = upstream.received().slice(seenBefore);
    expect(received.map((r) => r.wire)).toEqual([upstream.expectedWire(stream), upstream.expectedWire(stream)]);
    expect(received.map((r) => upstream.view(r.body))).toEqual(upstream.expected(client.imageDetail, preamble));

    const settled = await Promise.all(requestIds.map((id) => gw.settled(id)));
    expect(settled.map((e) => [e.endpoint, e.stream, e.provider, e.upstreamModel, e.status, e.usageSource, e.usage])).toEqual(
      upstream.billed.map((billed) => [ENDPOINTS[format], stream, upstream.provider, UPSTREAM_MODELS[protocol], 'ok', 'reported', billed]),
    );
  });

  it('sent the Gemini key in its header on every call above, never as a key= query parameter', () => {
    const calls = CASES.filter((c) => c.protocol === 'gemini').length * 2;
    expect(fakes.gemini.requests.map((r) => [r.query.has('key'), r.headers['x-goog-api-key'] === KEYS.gemini])).toEqual(Array.from({ length: calls }, () => [false, true]));
  });
});
