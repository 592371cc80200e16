import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which addresses an upstream call may reach (issue 7, "Safety at the boundary"). Pure: it parses
 * and classifies IP addresses and host names; `upstream-connector.ts` applies it to the address of
 * every new connection. Addresses are classified by what they reach, so an IPv4 address embedded
 * in IPv6 (mapped, compatible, translated, NAT64, 6to4) is classified as that IPv4 address.
 */
export type AddressClass =
  | 'public'
  /** 127.0.0.0/8, ::1 and `localhost` names. */
  | 'loopback'
  /** 10/8, 172.16/12, 192.168/16, fc00::/7 and the deprecated site-local fec0::/10. */
  | 'private'
  /** 169.254/16, fe80::/10. */
  | 'link_local'
  /** 100.64/10, carrier-grade NAT. */
  | 'cgnat'
  /** Cloud instance metadata services: credentials live there. */
  | 'metadata'
  /** 0.0.0.0/8 and ::, which a connect treats as this host. */
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  /** Documentation, benchmarking, IETF and future-use ranges; IPv6 outside global unicast 2000::/3. */
  | 'reserved';

/** What an operator opens to its own channels with `allowPrivateNetwork`; metadata and the rest never. */
const PRIVATE_NETWORK: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'link_local', 'cgnat']);

/** Whether an address of this class may be reached under the policy. */
export function isAllowedClass(addressClass: AddressClass, allowPrivateNetwork: boolean): boolean {
  return addressClass === 'public' || (allowPrivateNetwork && PRIVATE_NETWORK.has(addressClass));
}

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** [network, prefix length, class], most specific first where ranges nest. */
const IPV4_RANGES: readonly [number, number, AddressClass][] = [
  [v4(169, 254, 169, 254), 32, 'metadata'], // AWS, GCP, Azure, OCI, DigitalOcean...
  [v4(169, 254, 170, 2), 32, 'metadata'], // AWS ECS task metadata
  [v4(100, 100, 100, 200), 32, 'metadata'], // Alibaba Cloud
  [v4(255, 255, 255, 255), 32, 'broadcast'],
  [v4(0, 0, 0, 0), 8, 'unspecified'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'cgnat'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link_local'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'reserved'],
  [v4(192, 0, 2, 0), 24, 'reserved'],
  [v4(192, 88, 99, 0), 24, 'reserved'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'reserved'],
  [v4(198, 51, 100, 0), 24, 'reserved'],
  [v4(203, 0, 113, 0), 24, 'reserved'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
];

function classifyV4(value: number): AddressClass {
  for (const [network, bits, addressClass] of IPV4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === network) return addressClass;
  }
  return 'public';
}

/** A canonical dotted quad (what `net.isIPv4` accepts) as a 32-bit number. */
function v4Value(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return v4(a, b, c, d);
}

/** An IPv6 address as its eight 16-bit groups; the caller has checked it with `isIPv6`. */
function v6Groups(text: string): number[] {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    const value = v4Value(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const [left, right] = body.split('::') as [string, string | undefined];
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? 0 : 8 - head.length - tail.length;
  return [...head, ...Array<string>(zeros).fill('0'), ...tail].map((group) => parseInt(group, 16));
}

const METADATA_V6 = [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254]; // AWS IMDS over IPv6

function classifyV6(g: number[]): AddressClass {
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  const embedded = (hi: number, lo: number): AddressClass => classifyV4(((hi << 16) | lo) >>> 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  if (zeroUpTo(5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return embedded(g[6]!, g[7]!); // ::ffff:0:a.b.c.d, IPv4-translated
  if (zeroUpTo(6)) return embedded(g[6]!, g[7]!); // ::a.b.c.d, IPv4-compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!); // NAT64 64:ff9b::/96
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4
  if (g.every((x, i) => x === METADATA_V6[i])) return 'metadata';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link_local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  // Everything else outside global unicast (including 64:ff9b:1::/48 local NAT64 and 100::/64 discard).
  if ((g[0]! & 0xe000) !== 0x2000) return 'reserved';
  // 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID...), 2001:db8::/32 and 3fff::/20 documentation.
  if (g[0] === 0x2001 && (g[1]! < 0x0200 || g[1] === 0x0db8)) return 'reserved';
  if (g[0] === 0x3fff && g[1]! < 0x1000) return 'reserved';
  return 'public';
}

/**
 * The class of an IP address in canonical text (what a resolver answers, what a socket reports, a
 * URL's normalised host without brackets); null when the text is not an IP address. An IPv6 zone
 * (`fe80::1%eth0`) is ignored.
 */
export function classifyAddress(address: string): AddressClass | null {
  if (isIPv4(address)) return classifyV4(v4Value(address));
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  if (isIPv6(bare)) return classifyV6(v6Groups(bare));
  return null;
}

export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === 'public';
}

/** Names that always mean this host (RFC 6761) or a cloud metadata service, whatever DNS says. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/**
 * The class of a host as a URL gives it (`new URL(...).hostname`: IPv6 in brackets, IPv4 already
 * normalised from spellings such as `2130706433` or `0x7f.1`), or null for a name that only
 * resolving can classify.
 */
export function classifyHost(hostname: string): AddressClass | null {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const literal = classifyAddress(host);
  if (literal !== null) return literal;
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(name)) return 'metadata';
  return null;
}

/** How a refused class reads in an error message ("... is a loopback address"). */
export function describeAddressClass(addressClass: AddressClass): string {
  switch (addressClass) {
    case 'public':
      return 'a public address';
    case 'loopback':
      return 'a loopback address';
    case 'private':
      return 'a private-network address';
    case 'link_local':
      return 'a link-local address';
    case 'cgnat':
      return 'a shared (carrier-grade NAT) address';
    case 'metadata':
      return 'a cloud metadata address';
    case 'unspecified':
      return 'an unspecified address';
    case 'multicast':
      return 'a multicast address';
    case 'broadcast':
      return 'a broadcast address';
    case 'reserved':
      return 'a reserved address';
  }
}
