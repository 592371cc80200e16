import { describe, expect, it } from 'vitest';
import { classifyAddress, classifyHost, isAllowedClass, isPublicAddress, type AddressClass } from './address-policy.ts';

describe('classifyAddress', () => {
  const cases: [string, AddressClass][] = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.1', 'reserved'],
    ['203.0.113.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.0.170', 'reserved'],
    // IPv6
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'], // Teredo
    ['3fff::1', 'reserved'],
    ['100::1', 'reserved'],
    ['64:ff9b:1::1', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv4 embedded in IPv6 is what it reaches.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:7f00:0001:0:0:0:0:1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'public'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
    expect(isPublicAddress(address)).toBe(expected === 'public');
  });

  it('is null for anything that is not an IP address in canonical form', () => {
    // Resolvers answer and sockets report canonical text; other spellings are names to resolve.
    for (const text of ['localhost', 'example.com', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::1]', '', '1.2.3.4.5', '::ffff:999.0.0.1']) {
      expect({ text, class: classifyAddress(text) }).toEqual({ text, class: null });
    }
  });
});

describe('classifyHost', () => {
  it('sees through the spellings a URL normalises, and names that always mean this host or a metadata service', () => {
    const hostOf = (url: string): string => new URL(url).hostname;
    // WHATWG URL parsing turns these into 127.0.0.1 or a bracketed IPv6 literal before any check.
    expect(['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/'].map(hostOf)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(hostOf('http://[::ffff:127.0.0.1]/')).toBe('[::ffff:7f00:1]');
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[::1]/', 'http://localhost/', 'http://api.localhost./']) {
      expect({ url, class: classifyHost(hostOf(url)) }).toEqual({ url, class: 'loopback' });
    }
    expect(classifyHost('metadata.google.internal')).toBe('metadata');
    expect(classifyHost('METADATA.GOOGLE.INTERNAL.')).toBe('metadata');
    expect(classifyHost(hostOf('http://0xa9fea9fe/'))).toBe('metadata');
    expect(classifyHost('api.openai.com')).toBeNull();
    expect(classifyHost('localhost.example.com')).toBeNull();
  });
});

describe('isAllowedClass', () => {
  it('opens only loopback, private, link-local and CGNAT to allowPrivateNetwork, never metadata or the rest', () => {
    const all: AddressClass[] = ['public', 'loopback', 'private', 'link_local', 'cgnat', 'metadata', 'unspecified', 'multicast', 'broadcast', 'reserved'];
    expect(all.filter((c) => isAllowedClass(c, false))).toEqual(['public']);
    expect(all.filter((c) => isAllowedClass(c, true))).toEqual(['public', 'loopback', 'private', 'link_local', 'cgnat']);
  });
});
