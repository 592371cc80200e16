import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedConnector, guardedLookup, UpstreamAddressError, urlRefusal, type ConnectTarget, type Connector, type Resolve, type UpstreamNetwork } from './upstream-connector.ts';

const PUBLIC_ONLY: UpstreamNetwork = { allowPrivateNetwork: false, ownPorts: new Set() };
const PRIVATE_OK: UpstreamNetwork = { allowPrivateNetwork: true, ownPorts: new Set() };

/** Answers each lookup with the next entry (the last one repeats), counting the calls. */
function scriptedResolve(...answers: string[][]): Resolve & { calls: number } {
  const resolve = Object.assign(
    async (): Promise<{ address: string; family: number }[]> => {
      const answer = answers[Math.min(resolve.calls, answers.length - 1)]!;
      resolve.calls++;
      return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return resolve;
}

function lookupOnce(lookup: LookupFunction, hostname: string, all: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => lookup(hostname, { all }, (error, address) => (error ? reject(error) : resolve(address))));
}

/** undici's connector in miniature: net.connect with the lookup it was built with. */
function plainConnector(lookup: LookupFunction): Connector<ConnectTarget> {
  return (options, callback) => {
    const socket = netConnect({ host: options.hostname, port: Number(options.port), lookup });
    socket.once('connect', () => callback(null, socket)).once('error', (error) => callback(error, null));
  };
}

function connectWith(connector: Connector<ConnectTarget>, hostname: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => connector({ hostname, protocol: 'http:', port: String(port) }, (error, socket) => (error ? reject(error) : resolve(socket!))));
}

describe('guardedLookup', () => {
  it('refuses a name that answered a public address first and a private one at connect time (DNS rebinding)', async () => {
    const resolve = scriptedResolve(['93.184.215.14'], ['127.0.0.1']);
    const lookup = guardedLookup(PUBLIC_ONLY, 443, resolve);
    // A check made before connecting (as a validator would) sees the public answer...
    await expect(lookupOnce(lookup, 'rebind.example', true)).resolves.toEqual([{ address: '93.184.215.14', family: 4 }]);
    // ...but every connection resolves again, and the address it would connect to is the one checked.
    const refused = await lookupOnce(lookup, 'rebind.example', false).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamAddressError);
    expect(refused).toMatchObject({ reason: 'loopback', host: 'rebind.example', message: 'rebind.example resolves to a loopback address' });
    expect(resolve.calls).toBe(2);
  });

  it('refuses a name when any of its addresses is refused, and never names the address in the message', async () => {
    const lookup = guardedLookup(PUBLIC_ONLY, 443, scriptedResolve(['8.8.8.8', '10.0.0.7']));
    const refused = (await lookupOnce(lookup, 'mixed.example', true).catch((error: unknown) => error)) as UpstreamAddressError;
    expect(refused.reason).toBe('private');
    expect(refused.message).not.toContain('10.0.0.7');
  });

  it('answers in the shape net asks for: one address, or all of them', async () => {
    const lookup = guardedLookup(PUBLIC_ONLY, 443, scriptedResolve(['2606:4700::1', '8.8.8.8']));
    await expect(lookupOnce(lookup, 'dual.example', true)).resolves.toEqual([{ address: '2606:4700::1', family: 6 }, { address: '8.8.8.8', family: 4 }]);
    await expect(lookupOnce(lookup, 'dual.example', false)).resolves.toBe('2606:4700::1');
  });

  it('refuses metadata names without resolving them, even for a private network', async () => {
    const resolve = scriptedResolve(['8.8.8.8']);
    const refused = await lookupOnce(guardedLookup(PRIVATE_OK, 80, resolve), 'metadata.google.internal', false).catch((error: unknown) => error);
    expect(refused).toMatchObject({ reason: 'metadata' });
    expect(resolve.calls).toBe(0);
  });

  it('lets a private network reach a private address, but never its own listener', async () => {
    const resolve = scriptedResolve(['127.0.0.1']);
    await expect(lookupOnce(guardedLookup(PRIVATE_OK, 8080, resolve), 'upstream.internal', false)).resolves.toBe('127.0.0.1');
    const loop = { allowPrivateNetwork: true, ownPorts: new Set([8080]) };
    const refused = await lookupOnce(guardedLookup(loop, 8080, resolve), 'upstream.internal', false).catch((error: unknown) => error);
    expect(refused).toMatchObject({ reason: 'own_listener', message: "upstream.internal:8080 is this gateway's own listener (a loop)" });
  });
});

describe('guardedConnector', () => {
  let server: Server;
  let port: number;
  let accepted = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    server.on('connection', () => accepted++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses loopback literals and names before any connection is made', async () => {
    const before = accepted;
    const connector = guardedConnector(PUBLIC_ONLY, plainConnector);
    // What undici passes for http://2130706433/, http://[::ffff:127.0.0.1]/ and http://localhost/.
    for (const hostname of ['127.0.0.1', '::ffff:7f00:1', '::1', 'localhost']) {
      const refused = await connectWith(connector, hostname, port).catch((error: unknown) => error);
      expect({ hostname, refused }).toEqual({ hostname, refused: expect.any(UpstreamAddressError) });
    }
    const named = await connectWith(guardedConnector(PUBLIC_ONLY, plainConnector, scriptedResolve(['127.0.0.1'])), 'upstream.example', port).catch((error: unknown) => error);
    expect(named).toMatchObject({ reason: 'loopback', message: 'upstream.example resolves to a loopback address' });
    expect(accepted).toBe(before);
  });

  it('connects to the address the guarded lookup answered, when the policy allows it', async () => {
    const before = accepted;
    // `upstream.example` exists only in this resolver: the connection can only have gone where it said.
    const socket = await connectWith(guardedConnector(PRIVATE_OK, plainConnector, scriptedResolve(['127.0.0.1'])), 'upstream.example', port);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    socket.destroy();
    await expect.poll(() => accepted).toBe(before + 1);
  });

  it('checks the address actually connected to, even when the base connector resolved the name its own way', async () => {
    // A base connector that ignores the guarded lookup: the socket's own address still decides.
    const careless = (): Connector<ConnectTarget> => (options, callback) => {
      const socket = netConnect({ host: '127.0.0.1', port: Number(options.port) });
      socket.once('connect', () => callback(null, socket)).once('error', (error) => callback(error, null));
    };
    const refused = await connectWith(guardedConnector(PUBLIC_ONLY, careless), 'upstream.example', port).catch((error: unknown) => error);
    expect(refused).toMatchObject({ reason: 'loopback' });
    const loop = await connectWith(guardedConnector({ allowPrivateNetwork: true, ownPorts: new Set([port]) }, careless), 'upstream.example', port).catch((error: unknown) => error);
    expect(loop).toMatchObject({ reason: 'own_listener' });
  });

  it('refuses this host on its own ports even with a private network allowed', async () => {
    const before = accepted;
    const connector = guardedConnector({ allowPrivateNetwork: true, ownPorts: new Set([port]) }, plainConnector);
    for (const hostname of ['127.0.0.1', '0.0.0.0', '::ffff:7f00:1', 'localhost']) {
      const refused = await connectWith(connector, hostname, port).catch((error: unknown) => error);
      expect({ hostname, reason: (refused as UpstreamAddressError).reason }).toEqual({ hostname, reason: 'own_listener' });
    }
    expect(accepted).toBe(before);
    // Another port on the same host is the operator's business.
    const other = await connectWith(guardedConnector({ allowPrivateNetwork: true, ownPorts: new Set([port + 1]) }, plainConnector), '127.0.0.1', port);
    other.destroy();
  });
});

describe('urlRefusal', () => {
  it('decides what the URL alone can tell, after WHATWG normalisation', () => {
    const network = { allowPrivateNetwork: false, ownPorts: new Set([8080]) };
    const refusal = (url: string) => urlRefusal(new URL(url), network)?.reason ?? null;
    expect(['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://localhost/'].map(refusal)).toEqual(Array(6).fill('loopback'));
    expect(refusal('http://169.254.169.254/latest/meta-data/')).toBe('metadata');
    expect(refusal('http://127.0.0.1:8080/v1')).toBe('own_listener');
    expect(refusal('http://localhost:8080/v1')).toBe('own_listener');
    expect(refusal('https://api.openai.com/v1')).toBeNull();
    expect(refusal('http://rebind.example/v1')).toBeNull();
    const operator = { allowPrivateNetwork: true, ownPorts: new Set([8080]) };
    expect(urlRefusal(new URL('http://127.0.0.1:9/v1'), operator)).toBeNull();
    expect(urlRefusal(new URL('http://[::1]:8080/v1'), operator)).toMatchObject({ reason: 'own_listener', message: "[::1]:8080 is this gateway's own listener (a loop)" });
    expect(urlRefusal(new URL('http://metadata.google.internal/'), operator)).toMatchObject({ reason: 'metadata', message: 'metadata.google.internal resolves to a cloud metadata address' });
    expect(refusal('http://0x7f.1/')).toBe('loopback');
    expect(urlRefusal(new URL('http://0x7f.1/'), network)!.message).toBe('127.0.0.1 is a loopback address');
  });
});
