import { byokCredentialAad, encodeCredential, sealSecret } from '@tollgate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, fail, startUpstream, type FakeUpstream } from '../../../test/fakes/upstream.ts';
import { storeAdapters } from '../../../test/support/stores.ts';
import { channelRecord, modelRoute, price, type ChannelOptions } from '../testing/fixture.ts';
import { startGateway, type Gateway } from '../testing/gateway.ts';

const PRICE = price(1_000_000_000n, 2_000_000_000n);
const LIST = { input: '3000000000', output: '6000000000' };
const HI = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const BALANCE = 100_000_000_000n;
const [, memoryStore] = storeAdapters[0]!;

interface ErrorBody {
  error: { code: string; message: string; type: string };
}

/** Where upstream calls may go (issue 7, "Safety at the boundary"), through a real data plane. */
describe('upstream address safety', () => {
  let gw: Gateway;
  let upstream: FakeUpstream;
  let backup: FakeUpstream;
  /** Stands in for the control plane's listener on this host. */
  let controlPlane: FakeUpstream;

  beforeAll(async () => {
    upstream = await startUpstream({ default: answer({ reply: 'from upstream' }) });
    backup = await startUpstream({ default: answer({ reply: 'from backup' }) });
    controlPlane = await startUpstream();
    gw = await startGateway(memoryStore, { breaker: { threshold: 1000 }, listenerPorts: [Number(new URL(controlPlane.origin).port)] });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const fake of [upstream, backup, controlPlane]) await fake?.close();
  });

  let serial = 0;
  /** A model served by one fresh channel (then optionally a second), and a customer to call it. */
  async function route(channel: ChannelOptions, second?: ChannelOptions) {
    const id = `ch-${++serial}`;
    const channels = [channelRecord(gw.masterKey, id, channel), ...(second ? [channelRecord(gw.masterKey, `${id}-b`, second)] : [])];
    await gw.publish({
      channels,
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: channels.map((c, priority) => ({ channelId: c.id, priority })) })],
    });
    return { id, customer: await gw.customer(BALANCE) };
  }

  function received(): number[] {
    return [upstream, backup, controlPlane].map((f) => f.requests.length);
  }

  const port = (fake: FakeUpstream): string => new URL(fake.origin).port;
  const logged = (channelId: string): Record<string, unknown>[] =>
    gw.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'upstream attempt failed' && l.channelId === channelId);

  it('refuses a channel on this host unless it allows a private network: 502, nothing sent, the log says which channel and why', async () => {
    const before = received();
    // Retries are not spent on a refusal: waiting does not change an address.
    const { id, customer } = await route({ baseUrl: upstream.url, allowPrivateNetwork: false, retries: 2 });
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(502);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe('upstream_address_not_allowed');
    expect(body.error.message).not.toContain('127.0.0.1');
    expect(received()).toEqual(before);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts).toEqual([expect.objectContaining({ channelId: id, outcome: 'failed', status: null, errorClass: 'address' })]);
    expect(event.cost).toBe('0');
    expect(logged(id)).toEqual([expect.objectContaining({ errorClass: 'address', message: 'upstream address not allowed: 127.0.0.1 is a loopback address' })]);

    // The same upstream through a channel that allows it answers: the refusal was the policy's.
    const allowed = await route({ baseUrl: upstream.url, allowPrivateNetwork: true });
    const ok = await gw.post(allowed.customer.key.secret, HI);
    expect(ok.status).toBe(200);
    expect(upstream.requests.length).toBe(before[0]! + 1);
  });

  it.each([
    ['a decimal IPv4', (p: string) => `http://2130706433:${p}/v1`],
    ['a hex IPv4', (p: string) => `http://0x7f.1:${p}/v1`],
    ['an octal IPv4', (p: string) => `http://0177.0.0.1:${p}/v1`],
    ['an IPv4-mapped IPv6 (dotted)', (p: string) => `http://[::ffff:127.0.0.1]:${p}/v1`],
    ['an IPv4-mapped IPv6 (hex)', (p: string) => `http://[::ffff:7f00:1]:${p}/v1`],
    ['a name that resolves to loopback', (p: string) => `http://localhost:${p}/v1`],
  ])('refuses %s spelling of loopback, with nothing sent', async (_what, url) => {
    const before = received();
    const { id, customer } = await route({ baseUrl: url(port(upstream)), allowPrivateNetwork: false });
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe('upstream_address_not_allowed');
    expect(received()).toEqual(before);
    expect(logged(id)).toEqual([expect.objectContaining({ errorClass: 'address', message: expect.stringMatching(/^upstream address not allowed: .* a loopback address$/) })]);
  });

  it('treats a refused address as the channel failing: the next target serves the request', async () => {
    const before = received();
    const { id, customer } = await route({ baseUrl: upstream.url, allowPrivateNetwork: false }, { baseUrl: backup.url, provider: 'together' });
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('from backup');
    expect(received()).toEqual([before[0], before[1]! + 1, before[2]]);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts).toEqual([
      expect.objectContaining({ channelId: id, outcome: 'failed', errorClass: 'address' }),
      expect.objectContaining({ channelId: `${id}-b`, outcome: 'ok', status: 200 }),
    ]);
  });

  it.each([
    ['its own port', (g: Gateway) => `http://127.0.0.1:${g.dataPlane.port}/v1`],
    ['its own port by name', (g: Gateway) => `http://localhost:${g.dataPlane.port}/v1`],
    ['its own port, IPv4-mapped', (g: Gateway) => `http://[::ffff:127.0.0.1]:${g.dataPlane.port}/v1`],
    ['the control plane port', () => `${controlPlane.origin}/v1`],
  ])('refuses a channel pointing at %s even with a private network allowed (a loop)', async (_what, url) => {
    const before = received();
    const { id, customer } = await route({ baseUrl: url(gw), allowPrivateNetwork: true });
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe('upstream_address_not_allowed');
    expect(received()).toEqual(before);
    expect(logged(id)).toEqual([expect.objectContaining({ errorClass: 'address', message: expect.stringContaining("is this gateway's own listener (a loop)") })]);
    // The data plane saw only the client's request: one usage record, none for a looped call.
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts).toHaveLength(1);
  });

  it.each([301, 307])('never follows a %s redirect to a private address: an upstream error, nothing sent there', async (status) => {
    const target = await startUpstream();
    try {
      const { id, customer } = await route({ baseUrl: upstream.url, allowPrivateNetwork: true });
      upstream.enqueue(fail(status, { headers: { location: `${target.url}/chat/completions` }, body: '' }));
      const before = upstream.requests.length;
      const response = await gw.post(customer.key.secret, HI);
      expect(response.status).toBe(502);
      expect(((await response.json()) as ErrorBody).error).toMatchObject({ code: 'upstream_error', message: `The provider failed (HTTP ${status}).` });
      expect(upstream.requests.length).toBe(before + 1);
      expect(target.requests).toHaveLength(0);
      expect(logged(id)).toEqual([expect.objectContaining({ errorClass: 'status', status })]);
    } finally {
      await target.close();
    }
  });

  it('a redirect fails over to the next target like any channel fault', async () => {
    const { customer } = await route({ baseUrl: upstream.url }, { baseUrl: backup.url, provider: 'together' });
    upstream.enqueue(fail(302, { headers: { location: 'http://169.254.169.254/latest/meta-data/' }, body: '' }));
    const response = await gw.post(customer.key.secret, HI);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('from backup');
  });

  it("refuses a customer's own endpoint on a private network: BYOK never reaches one", async () => {
    await gw.publish({
      channels: [],
      models: [modelRoute('m', { prices: { resale: PRICE }, targets: [], byok: [{ provider: 'azure', upstreamModel: 'gpt-4o', listPrice: LIST }] })],
    });
    const customer = await gw.customer(BALANCE);
    const { orgId } = customer;
    const id = 'byok-azure-local';
    // A name that resolves to loopback: past any check of the URL's text, caught at connect time.
    const credential = { kind: 'azure' as const, endpoint: `http://localhost:${port(upstream)}`, apiKey: 'azure-key-0123456789', apiVersion: '2024-10-21', deployment: null };
    await gw.store.putByokRecord(orgId, 'azure', { v: 1, id, orgId, provider: 'azure', credentialSealed: sealSecret(gw.masterKey, encodeCredential(credential), byokCredentialAad(orgId, id)) });
    const before = received();
    const response = await gw.post(customer.key.secret, { ...HI, model: 'byok/m' });
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe('upstream_address_not_allowed');
    expect(received()).toEqual(before);
    const event = await gw.settled(response.headers.get('x-request-id')!);
    expect(event.attempts).toEqual([expect.objectContaining({ channelId: null, provider: 'azure', errorClass: 'address' })]);
  });
});
