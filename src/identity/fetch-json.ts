import { badGateway } from '../fhir/outcome.js';
import { toHttpError } from '../net/outbound-errors.js';
import { OutboundError, type GuardedFetch } from '../net/types.js';

const TIMEOUT_MS = 5_000;
const MAX_BYTES = 256 * 1024;

export interface FetchedJson {
  json: unknown;
  /** From Cache-Control: how long the document may be reused (0 for no-store/no-cache), undefined when unstated. */
  maxAgeMs: number | undefined;
}

function maxAgeOf(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age=(\d+)$/.exec(d);
    if (m) return Number(m[1]) * 1000;
  }
  return undefined;
}

/**
 * GETs a key-material document (JWKS, OIDC discovery) through the SSRF-guarded fetch. Every
 * failure is the upstream's, never the caller's: 504 on timeout, 502 otherwise.
 */
export async function fetchJson(fetch: GuardedFetch, url: string, what: string): Promise<FetchedJson> {
  let res;
  try {
    res = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES });
  } catch (e) {
    if (e instanceof OutboundError) {
      // The URL comes from configuration, not from the caller, so a refusal is an upstream failure (502), not a 422.
      if (e.kind === 'blocked' || e.kind === 'bad-url') throw badGateway(`${what} is not an allowed destination`);
      throw toHttpError(e, what);
    }
    throw e;
  }
  if (res.status !== 200) throw badGateway(`${what} answered HTTP ${res.status}`);
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw badGateway(`${what} is not valid JSON`);
  }
  const cacheControl = Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'cache-control')?.[1];
  return { json, maxAgeMs: maxAgeOf(cacheControl) };
}
