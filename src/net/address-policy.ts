import { BlockList, isIP } from 'node:net';

/**
 * Which addresses the gateway refuses to reach (SSRF guard), after the IANA special-purpose
 * registries (RFC 6890 and successors). Pure decisions: nothing here opens a connection.
 */

type Range = readonly [reason: string, network: string, prefix: number];

// First match wins, so narrower ranges come before the ranges that contain them.
const IPV4: readonly Range[] = [
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['shared (CGNAT)', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local (incl. cloud metadata)', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['IETF protocol assignment', '192.0.0.0', 24],
  ['documentation', '192.0.2.0', 24],
  ['6to4 relay anycast', '192.88.99.0', 24],
  ['private', '192.168.0.0', 16],
  ['benchmarking', '198.18.0.0', 15],
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['broadcast', '255.255.255.255', 32],
  ['reserved', '240.0.0.0', 4],
];

const IPV6: readonly Range[] = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['IPv4-compatible (deprecated)', '::', 96],
  // Mapped forms of forbidden IPv4 addresses already match the IPv4 rules (BlockList maps them);
  // the rest are refused too, since a DNS answer or URL has no honest reason to use them.
  ['IPv4-mapped', '::ffff:0:0', 96],
  ['local-use NAT64', '64:ff9b:1::', 48],
  ['discard-only', '100::', 64],
  ['IETF protocol assignment (incl. Teredo, benchmarking)', '2001::', 23],
  ['documentation', '2001:db8::', 32],
  ['documentation', '3fff::', 20],
  ['unique local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['site-local (deprecated)', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
];

function sixToFourPrefix(ipv4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number);
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `2002:${hex(a, b)}:${hex(c, d)}::`;
}

// BlockList also applies IPv4 rules to IPv4-mapped IPv6 text and IPv6 rules to IPv4 text (as
// mapped), so IPv6-only rules sit in their own lists, consulted for IPv6 addresses only.
function rules(entries: Iterable<readonly [reason: string, network: string, prefix: number, type: 'ipv4' | 'ipv6']>) {
  const lists = new Map<string, BlockList>();
  for (const [reason, network, prefix, type] of entries) {
    const list = lists.get(reason) ?? new BlockList();
    lists.set(reason, list);
    list.addSubnet(network, prefix, type);
  }
  return lists;
}
const ipv4Rules = rules(
  IPV4.flatMap(([reason, network, prefix]) => [
    [reason, network, prefix, 'ipv4'] as const,
    // NAT64 (RFC 6052) and 6to4 (RFC 3056) addresses reach the IPv4 address they embed.
    [reason, `64:ff9b::${network}`, 96 + prefix, 'ipv6'] as const,
    [reason, sixToFourPrefix(network), 16 + prefix, 'ipv6'] as const,
  ]),
);
const ipv6Rules = rules(IPV6.map(([reason, network, prefix]) => [reason, network, prefix, 'ipv6'] as const));

// Everything outside global unicast is special or unassigned; checking membership (rather than
// listing exceptions) also fails closed for any IPv6 text BlockList cannot parse.
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');
globalUnicast.addSubnet('64:ff9b::', 96, 'ipv6');

/** Why the gateway must not connect to this IP address, or undefined when it may. */
export function isForbiddenAddress(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  // A zone index names an interface of this host: only meaningful for link-local targets.
  if (ip.includes('%')) return 'scoped (zone index)';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [reason, list] of ipv4Rules) if (list.check(ip, type)) return reason;
  if (type === 'ipv4') return undefined;
  for (const [reason, list] of ipv6Rules) if (list.check(ip, type)) return reason;
  return globalUnicast.check(ip, type) ? undefined : 'not global unicast';
}

interface AllowEntry {
  host: string;
  port: number | undefined;
}

/** Lower-cased, IDNA- and IP-canonical host without IPv6 brackets; undefined when it is no valid host. */
function canonicalHost(host: string): string | undefined {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  try {
    return new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** Parses an outboundAllowlist entry: an IP or host name, optionally `host:port` (`[v6]:port`). */
export function parseAllowEntry(entry: string): AllowEntry | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry) ?? (isIP(entry) === 6 ? [entry, entry] : /^([^:[\]/@]+)(?::(\d{1,5}))?$/.exec(entry));
  const host = m?.[1] === undefined ? undefined : canonicalHost(m[1]);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (host === undefined || (port !== undefined && (port < 1 || port > 65535))) return undefined;
  return { host, port };
}

/** Whether the allowlist names this host (and port, when the entry has one). */
export function allowlisted(host: string, port: number, allowlist: readonly string[]): boolean {
  const target = canonicalHost(host);
  if (target === undefined) return false;
  return allowlist.some((entry) => {
    const e = parseAllowEntry(entry);
    return e !== undefined && e.host === target && (e.port === undefined || e.port === port);
  });
}
