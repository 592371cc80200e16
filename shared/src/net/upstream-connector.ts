import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { classifyAddress, classifyHost, describeAddressClass, isAllowedClass, type AddressClass } from './address-policy.ts';

/** What one upstream (a channel, a BYOK credential) may connect to. */
export interface UpstreamNetwork {
  /** Loopback, private, link-local and CGNAT addresses too: an operator's own network, never a customer's. */
  allowPrivateNetwork: boolean;
  /**
   * Ports Tollgate itself listens on (its data plane, the control plane). An address of this host
   * with one of them is a loop and refused, whatever `allowPrivateNetwork` says. Read at connect
   * time, so a port bound after the pools were made (port 0) still counts.
   */
  ownPorts: ReadonlySet<number>;
}

export type AddressRefusal = Exclude<AddressClass, 'public'> | 'own_listener';

/**
 * A connection refused for where it would go. The message names the host as configured and the
 * kind of address, never the address a name resolved to: a customer learns nothing about the
 * gateway's network from it.
 */
export class UpstreamAddressError extends Error {
  override name = 'UpstreamAddressError';
  readonly code = 'ERR_UPSTREAM_ADDRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: AddressRefusal,
  ) {
    const what = isIP(host) !== 0 ? `${host} is` : `${host} resolves to`;
    super(reason === 'own_listener' ? `${hostPort(host, port)} is this gateway's own listener (a loop)` : `${what} ${describeAddressClass(reason)}`);
  }
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Whether an address belongs to this host: loopback, unspecified, or one of its interfaces. */
export function isThisHost(address: string): boolean {
  const addressClass = classifyAddress(address);
  if (addressClass === 'loopback' || addressClass === 'unspecified') return true;
  // ::ffff:10.1.2.3 reaches the interface 10.1.2.3.
  const plain = address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address.toLowerCase() === plain));
}

/** Why a connection to `address:port` is refused, or null when it may go ahead. */
export function addressRefusal(address: string, port: number, network: UpstreamNetwork): AddressRefusal | null {
  // Checked first and only for our own ports: the interface list is read only when it can matter.
  if (network.ownPorts.has(port) && isThisHost(address)) return 'own_listener';
  const addressClass = classifyAddress(address) ?? 'reserved';
  return isAllowedClass(addressClass, network.allowPrivateNetwork) ? null : (addressClass as AddressRefusal);
}

/**
 * Why a URL can never work as an upstream, decidable from the URL alone (an IP literal, a
 * `localhost` or metadata name), as the error a connection would fail with; null when only the
 * connect-time check can tell.
 */
export function urlRefusal(url: URL, network: UpstreamNetwork): UpstreamAddressError | null {
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let refusal: AddressRefusal | null;
  if (isIP(host) !== 0) {
    refusal = addressRefusal(host, port, network);
  } else {
    const named = classifyHost(host);
    if (named === 'loopback' && network.ownPorts.has(port)) refusal = 'own_listener';
    else refusal = named === null || isAllowedClass(named, network.allowPrivateNetwork) ? null : (named as AddressRefusal);
  }
  return refusal === null ? null : new UpstreamAddressError(host, port, refusal);
}

/** Resolves a name to every address it has (dns.lookup by default; tests inject their own). */
export type Resolve = (hostname: string, options: { family: number; hints?: number }) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname, options) => dns.lookup(hostname, { ...options, all: true });

/**
 * A `lookup` for net/tls `connect`: resolves the name, and refuses the connection unless every
 * address it resolved to is allowed. Because the socket connects to exactly the addresses this
 * returns, and a name is resolved again for every connection, an answer that changes between a
 * check and the connect (DNS rebinding) is checked where it is used.
 */
export function guardedLookup(network: UpstreamNetwork, port: number, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    const named = classifyHost(hostname);
    const early = named === 'metadata' || (named === 'loopback' && !network.allowPrivateNetwork) ? named : null;
    if (early !== null) return process.nextTick(callback, new UpstreamAddressError(hostname, port, early), '', 0);
    resolve(hostname, { family: options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0), ...(options.hints !== undefined ? { hints: options.hints } : {}) }).then(
      (addresses) => {
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} did not resolve`), { code: 'ENOTFOUND' }), '', 0);
        for (const { address } of addresses) {
          const refusal = addressRefusal(address, port, network);
          if (refusal !== null) return callback(new UpstreamAddressError(hostname, port, refusal), '', 0);
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** The part of undici's connector options the guard reads (undici's `buildConnector.Options`). */
export interface ConnectTarget {
  hostname: string;
  protocol: string;
  port: string;
}

export type ConnectCallback = (...args: [null, Socket] | [Error, null]) => void;
export type Connector<O extends ConnectTarget> = (options: O, callback: ConnectCallback) => void;

/**
 * Wraps undici's connector so that no connection reaches an address the network policy refuses:
 * an IP literal is checked before connecting, a name through `guardedLookup` (the base connector
 * is built once per port with it, e.g. `(lookup) => buildConnector({ timeout, lookup })`), and the
 * address the socket actually connected to is checked once more before the first byte is written.
 * It runs once per new connection, never per request.
 */
export function guardedConnector<O extends ConnectTarget>(network: UpstreamNetwork, build: (lookup: LookupFunction) => Connector<O>, resolve?: Resolve): Connector<O> {
  const byPort = new Map<number, Connector<O>>();
  return (options, callback) => {
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    if (isIP(options.hostname) !== 0) {
      const refusal = addressRefusal(options.hostname, port, network);
      if (refusal !== null) return void process.nextTick(callback, new UpstreamAddressError(options.hostname, port, refusal), null);
    }
    let connect = byPort.get(port);
    if (!connect) {
      connect = build(guardedLookup(network, port, resolve));
      byPort.set(port, connect);
    }
    connect(options, (...result) => {
      const [error, socket] = result;
      if (error) return callback(error, null);
      const address = socket!.remoteAddress;
      const refusal = address === undefined ? 'unspecified' : addressRefusal(address, socket!.remotePort ?? port, network);
      if (refusal === null) return callback(null, socket!);
      socket!.destroy();
      callback(new UpstreamAddressError(options.hostname, port, refusal), null);
    });
  };
}
