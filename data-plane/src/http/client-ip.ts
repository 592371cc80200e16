import { BlockList, isIP } from 'node:net';

/** A set of addresses and CIDR ranges, IPv4 and IPv6, answering "is this address in it?". */
export class AddressSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws RangeError on an entry that is not an address or a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.trim().split('/');
      const family = isIP(address);
      if (family === 0) throw new RangeError(`"${entry}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) {
        this.list.addAddress(address, type);
      } else {
        const bits = Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new RangeError(`"${entry}" has an invalid prefix length`);
        this.list.addSubnet(address, bits, type);
      }
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    // An IPv4 client seen over IPv6 arrives as ::ffff:a.b.c.d: check it as the IPv4 it is.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.list.check(mapped[1]!, 'ipv4') || this.list.check(address, 'ipv6');
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The client's address: the connection's peer, or, when that peer is a trusted proxy, the
 * right-most `X-Forwarded-For` hop that is not itself a trusted proxy (the left part of that
 * header is whatever the client wrote, so it is never believed).
 */
export function clientAddress(peer: string, forwardedFor: string, trustedProxies: AddressSet | null): string {
  if (!trustedProxies || !forwardedFor || !trustedProxies.has(peer)) return peer;
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter((h) => isIP(h) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.has(hops[i]!)) return hops[i]!;
  return peer;
}
