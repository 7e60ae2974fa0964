import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { allowlisted, isForbiddenAddress, parseAllowEntry } from '../../src/net/address-policy.js';

describe('isForbiddenAddress', () => {
  const forbidden: Record<string, string> = {
    '127.0.0.1': 'loopback',
    '127.255.0.2': 'loopback',
    '0.0.0.0': 'unspecified',
    '10.0.0.1': 'private',
    '172.16.0.1': 'private',
    '172.31.255.254': 'private',
    '192.168.1.1': 'private',
    '100.64.0.1': 'shared (CGNAT)',
    '169.254.169.254': 'link-local (incl. cloud metadata)',
    '224.0.0.1': 'multicast',
    '255.255.255.255': 'broadcast',
    '240.0.0.1': 'reserved',
    '192.0.2.1': 'documentation',
    '198.18.0.1': 'benchmarking',
    '::': 'unspecified',
    '::1': 'loopback',
    '::ffff:10.0.0.1': 'private',
    '::ffff:127.0.0.1': 'loopback',
    '::ffff:7f00:1': 'loopback',
    '::ffff:8.8.8.8': 'IPv4-mapped',
    '::a00:1': 'IPv4-compatible (deprecated)',
    '64:ff9b::a9fe:a9fe': 'link-local (incl. cloud metadata)',
    '64:ff9b::127.0.0.1': 'loopback',
    '2002:c0a8:101::1': 'private',
    'fd00::1': 'unique local',
    'fd00:ec2::254': 'unique local',
    'fe80::1': 'link-local',
    'fec0::1': 'site-local (deprecated)',
    'ff02::1': 'multicast',
    '2001:db8::1': 'documentation',
    '2001::1': 'IETF protocol assignment (incl. Teredo, benchmarking)',
    '4000::1': 'not global unicast',
    'fe80::1%lo': 'scoped (zone index)',
    localhost: 'not an IP address',
  };
  for (const [ip, reason] of Object.entries(forbidden)) {
    test(`refuses ${ip} (${reason})`, () => assert.equal(isForbiddenAddress(ip), reason));
  }

  test('allows public unicast, including NAT64 and 6to4 forms of public IPv4', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.equal(isForbiddenAddress(ip), undefined, ip);
    }
  });

  test('every IPv6 form embedding a private or loopback IPv4 address is refused', () => {
    const octet = fc.nat(255);
    const embedded = fc
      .oneof(
        fc.tuple(fc.constant(10), octet, octet, octet),
        fc.tuple(fc.constant(127), octet, octet, octet),
        fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
        fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
        fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
        fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
      )
      .map((octets) => octets.join('.'));
    fc.assert(
      fc.property(embedded, (v4) => {
        const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
        const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
        for (const ip of [v4, `::ffff:${v4}`, `64:ff9b::${v4}`, `2002:${hex(a, b)}:${hex(c, d)}::1`]) {
          assert.ok(isForbiddenAddress(ip), ip);
        }
      }),
    );
  });
});

describe('allowlisted', () => {
  test('matches an IP or host name on any port, or only the named port', () => {
    assert.ok(allowlisted('127.0.0.1', 8080, ['127.0.0.1']));
    assert.ok(allowlisted('127.0.0.1', 8080, ['127.0.0.1:8080']));
    assert.ok(!allowlisted('127.0.0.1', 8081, ['127.0.0.1:8080']));
    assert.ok(allowlisted('peer.test', 443, ['PEER.test:443']));
    assert.ok(!allowlisted('evil-peer.test', 443, ['peer.test']));
    assert.ok(!allowlisted('127.0.0.2', 80, ['127.0.0.1']));
  });

  test('compares IPv6 in canonical form, bracketed or not', () => {
    assert.ok(allowlisted('[::1]', 8443, ['[0:0:0:0:0:0:0:1]:8443']));
    assert.ok(allowlisted('::1', 1, ['::1']));
    assert.ok(!allowlisted('::1', 1, ['[::1]:2']));
  });

  test('rejects malformed entries', () => {
    for (const entry of ['a:b:c', '127.0.0.1:99999', 'host:0', 'x/y', 'user@host', '[::1', '']) {
      assert.equal(parseAllowEntry(entry), undefined, entry);
    }
    assert.ok(!allowlisted('127.0.0.1', 80, ['127.0.0.1:99999']));
  });
});
