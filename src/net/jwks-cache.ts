import { createLocalJWKSet, errors, type CompactJWSHeaderParameters, type FlattenedJWSInput, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import { DomainError } from '../errors.js';
import { fetchJson } from './fetch-json.js';
import type { GuardedFetch } from './types.js';

/** An unknown kid triggers at most one refetch per key set in this window, so forged kids cannot make us hammer an issuer. */
export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** Longest a key set is reused without refetching, even when its Cache-Control allows more. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

export interface CachedKeySet {
  set: JSONWebKeySet;
  getKey: JWTVerifyGetKey;
}

interface Entry extends CachedKeySet {
  fetchedAt: number;
  maxAgeMs: number;
}

function isKeySet(v: unknown): v is JSONWebKeySet {
  return typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);
}

/**
 * Remote JWK Sets (identity providers, clients' jwks_uri, SMART Health Card issuers) fetched through the guarded fetch,
 * reused for min(Cache-Control max-age, 10 min), one fetch in flight per URL.
 */
export class JwksCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly fetch: GuardedFetch,
    private readonly clock: Clock,
    /** Names the key owner in error messages, e.g. "The identity provider's JWKS". */
    private readonly what: string,
  ) {}

  /** The key set, from the cache while fresh. */
  async current(url: string): Promise<CachedKeySet> {
    const e = this.entries.get(url);
    if (e && this.clock.now() - e.fetchedAt < e.maxAgeMs) return e;
    return this.load(url);
  }

  /** A refetched key set after an unknown kid, or undefined while the cooldown since the last fetch runs. */
  async refreshed(url: string): Promise<CachedKeySet | undefined> {
    const e = this.entries.get(url);
    if (e && this.clock.now() - e.fetchedAt < UNKNOWN_KID_COOLDOWN_MS) return undefined;
    return this.load(url);
  }

  /** A jose key resolver for `url`: the cached set, refetched once (cooldown permitting) when no key matches. */
  async getKey(url: string, header: CompactJWSHeaderParameters, token: FlattenedJWSInput) {
    const set = await this.current(url);
    try {
      return await set.getKey(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      const again = await this.refreshed(url);
      if (!again) throw e;
      return again.getKey(header, token);
    }
  }

  private load(url: string): Promise<Entry> {
    const pending = this.inflight.get(url);
    if (pending) return pending;
    const p = this.fetchEntry(url).finally(() => this.inflight.delete(url));
    this.inflight.set(url, p);
    return p;
  }

  private async fetchEntry(url: string): Promise<Entry> {
    const { json, maxAgeMs } = await fetchJson(this.fetch, url, this.what);
    if (!isKeySet(json)) throw new DomainError('ERR_OUTBOUND_FAILED', `${this.what} is not a JWK Set`);
    let getKey: JWTVerifyGetKey;
    try {
      getKey = createLocalJWKSet(json);
    } catch {
      throw new DomainError('ERR_OUTBOUND_FAILED', `${this.what} is not a valid JWK Set`);
    }
    const entry: Entry = { set: json, getKey, fetchedAt: this.clock.now(), maxAgeMs: Math.min(maxAgeMs ?? JWKS_MAX_AGE_MS, JWKS_MAX_AGE_MS) };
    this.entries.set(url, entry);
    return entry;
  }
}
