import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import type { Agent, request as undiciRequest } from 'undici';
import { once } from '../once.js';
import { allowlisted, isForbiddenAddress, parseAllowEntry } from './address-policy.js';
import { OutboundError, type GuardedFetch, type OutboundRequest, type OutboundResponse } from './types.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** A URL the guard accepted, with the one address the connection must go to. */
export interface Target {
  url: URL;
  address: string;
  family: number;
}

export interface GuardedFetchOptions {
  allowlist: readonly string[];
  defaults?: { timeoutMs?: number; maxBytes?: number; maxRedirects?: number };
  /** Tests only: stands in for the system DNS resolver. */
  resolve?: Resolver;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Sent only to the origin the caller addressed, as fetch() does across redirects.
const ORIGIN_BOUND_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

async function resolveHost(host: string, resolve: Resolver): Promise<ResolvedAddress[]> {
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    throw new OutboundError('dns', `DNS lookup of ${host} failed (${(e as { code?: string }).code ?? 'error'})`);
  }
  if (addresses.length === 0) throw new OutboundError('dns', `DNS lookup of ${host} found no address`);
  return addresses;
}

/**
 * The guard's whole decision for one URL (first request or redirect hop), made before any
 * connection: WHATWG parsing (which turns decimal/octal/hex IPv4 spellings into the dotted quad
 * they reach, so that is what gets judged), https unless allowlisted, no credentials, and every
 * DNS answer a permitted address unless the host is allowlisted. Messages name the host only:
 * paths of SHL URLs are secrets.
 */
export async function checkTarget(input: string | URL, allowlist: readonly string[], resolve: Resolver = systemResolver): Promise<Target> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundError('bad-url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundError('bad-url', `${url.protocol} URLs are not fetched`);
  if (url.username || url.password) throw new OutboundError('bad-url', 'credentials in the URL are not sent');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const trusted = allowlisted(host, Number(url.port || (url.protocol === 'https:' ? 443 : 80)), allowlist);
  if (!trusted && url.protocol === 'http:') throw new OutboundError('insecure-scheme', `plain http to ${url.host} is not allowed`);
  const addresses = await resolveHost(host, resolve);
  if (!trusted) {
    for (const { address } of addresses) {
      const reason = isForbiddenAddress(address);
      if (reason) throw new OutboundError('blocked-address', `${url.host} leads to a forbidden address (${reason})`);
    }
  }
  const [first] = addresses as [ResolvedAddress];
  return { url, address: first.address, family: first.family };
}

/** Connects to the address checkTarget judged, whatever a second DNS lookup would say now. */
function pinnedLookup(target: Target): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function readCapped(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new OutboundError('too-large', `response exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

interface Hop {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
}

type HopResult = { status: number; headers: Record<string, string>; body?: Buffer };

const POOLED_TARGETS = 64;

// Loaded with the first outbound request: about 60 ms of start otherwise.
const undici = once(() => import('undici'));

/**
 * Keep-alive connections per (origin, checked address): a pooled connection only ever goes to the
 * address the guard approved, so reuse keeps the guarantee while sparing a TCP (and TLS) handshake
 * per request, which dominates frequent deliveries to one subscriber.
 */
class PinnedAgents {
  private readonly agents = new Map<string, Agent>();

  for(target: Target, NewAgent: typeof Agent): Agent {
    const key = `${target.url.protocol}//${target.url.host}|${target.address}`;
    let agent = this.agents.get(key);
    if (agent) {
      this.agents.delete(key);
    } else {
      agent = new NewAgent({ connect: { lookup: pinnedLookup(target) }, keepAliveTimeout: 4_000 });
      if (this.agents.size >= POOLED_TARGETS) {
        const [oldestKey, oldest] = this.agents.entries().next().value as [string, Agent];
        this.agents.delete(oldestKey);
        void oldest.close();
      }
    }
    this.agents.set(key, agent);
    return agent;
  }
}

/** One request to one checked target; the body is read (within the cap) unless it is a redirect. */
async function exchange(request: typeof undiciRequest, agent: Agent, target: Target, hop: Hop, signal: AbortSignal, maxBytes: number): Promise<HopResult> {
  const res = await request(target.url, { dispatcher: agent, method: hop.method, headers: hop.headers, body: hop.body, signal });
  try {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    if (REDIRECTS.has(res.statusCode) && headers.location !== undefined) {
      await res.body.dump();
      return { status: res.statusCode, headers };
    }
    if (Number(headers['content-length']) > maxBytes) throw new OutboundError('too-large', `response declares more than ${maxBytes} bytes`);
    return { status: res.statusCode, headers, body: await readCapped(res.body, maxBytes) };
  } catch (e) {
    // An unread or oversize body must not keep the pooled connection busy; destroying it aborts
    // the stream, whose error nobody else is listening for.
    res.body.on('error', () => undefined);
    res.body.destroy();
    throw e;
  }
}

/** The hop after a redirect, with fetch()'s method rewriting and no credentials carried to another origin. */
function redirected(hop: Hop, status: number, from: URL, to: URL): Hop {
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  const headers = Object.fromEntries(
    Object.entries(hop.headers).filter(([name]) => {
      const n = name.toLowerCase();
      if (to.origin !== from.origin && ORIGIN_BOUND_HEADERS.has(n)) return false;
      return !(toGet && n.startsWith('content-'));
    }),
  );
  return toGet ? { method: 'GET', headers, body: undefined } : { ...hop, headers };
}

function classify(e: unknown, signal: AbortSignal): unknown {
  if (e instanceof OutboundError) return e;
  if (signal.aborted) return new OutboundError('timeout', 'no complete answer before the deadline');
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return e;
  if (/^UND_ERR_.*TIMEOUT$/.test(code)) return new OutboundError('timeout', `upstream too slow (${code})`);
  return new OutboundError('unreachable', `connection failed (${code})`);
}

/** The single outbound HTTP client of the gateway; see checkTarget for what it refuses. */
export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const invalid = options.allowlist.filter((entry) => !parseAllowEntry(entry));
  if (invalid.length) throw new Error(`outboundAllowlist entries are not a host, IP or host:port: ${invalid.join(', ')}`);
  const allowlist = [...options.allowlist];
  const resolve = options.resolve ?? systemResolver;
  const defaults = { timeoutMs: 10_000, maxBytes: 5 * 1024 * 1024, maxRedirects: 3, ...options.defaults };
  const agents = new PinnedAgents();

  return async (url: string, req: OutboundRequest = {}): Promise<OutboundResponse> => {
    const signal = AbortSignal.timeout(req.timeoutMs ?? defaults.timeoutMs);
    const maxBytes = req.maxBytes ?? defaults.maxBytes;
    const maxRedirects = req.maxRedirects ?? defaults.maxRedirects;
    let hop: Hop = { method: req.method ?? 'GET', headers: { ...req.headers }, body: req.body };
    let next: string | URL = url;
    try {
      const { Agent, request } = await undici();
      for (let redirects = 0; ; redirects++) {
        const target = await abortable(checkTarget(next, allowlist, resolve), signal);
        const res = await exchange(request, agents.for(target, Agent), target, hop, signal, maxBytes);
        if (res.body) return { status: res.status, headers: res.headers, body: res.body, url: target.url.href };
        if (redirects === maxRedirects) throw new OutboundError('too-many-redirects', `more than ${maxRedirects} redirects`);
        try {
          next = new URL(res.headers.location ?? '', target.url);
        } catch {
          throw new OutboundError('bad-url', `redirect from ${target.url.host} to an invalid URL`);
        }
        hop = redirected(hop, res.status, target.url, next);
      }
    } catch (e) {
      throw classify(e, signal);
    }
  };
}
