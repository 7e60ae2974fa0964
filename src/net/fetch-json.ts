import { outboundFailure } from './outbound-errors.js';
import { OutboundError, type GuardedFetch } from './types.js';

const TIMEOUT_MS = 5_000;
const MAX_BYTES = 256 * 1024;

export interface FetchedJson {
  json: unknown;
  /** From Cache-Control: how long the document may be reused (0 for no-store/no-cache), undefined when unstated. */
  maxAgeMs: number | undefined;
}

function maxAgeOf(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age=(\d+)$/.exec(d);
    if (m) return Number(m[1]) * 1000;
  }
  return undefined;
}

async function get(fetch: GuardedFetch, url: string): Promise<FetchedJson> {
  const res = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES });
  if (res.status !== 200) throw new OutboundError('status', `answered HTTP ${res.status}`);
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new OutboundError('bad-body', 'is not valid JSON');
  }
  const cacheControl = Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'cache-control')?.[1];
  return { json, maxAgeMs: maxAgeOf(cacheControl) };
}

/**
 * GETs a key-material document (JWKS, OIDC discovery, revocation list) through the SSRF-guarded
 * fetch. Its URL comes from configuration or a trusted issuer, so every failure is the upstream's:
 * ERR_OUTBOUND_TIMEOUT or ERR_OUTBOUND_FAILED.
 */
export async function fetchJson(fetch: GuardedFetch, url: string, what: string): Promise<FetchedJson> {
  try {
    return await get(fetch, url);
  } catch (e) {
    throw e instanceof OutboundError ? outboundFailure(e, what, 'config') : e;
  }
}
