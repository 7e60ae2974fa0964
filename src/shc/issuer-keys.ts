import type { Clock } from '../clock.js';
import type { ShcIssuerConfig } from '../config.js';
import { JwksCache } from '../net/jwks-cache.js';
import type { GuardedFetch } from '../net/types.js';
import type { IssuerJwk } from './issuer-key.js';

export function issuerJwksUrl(iss: string): string {
  return `${iss}/.well-known/jwks.json`;
}

function withKid(keys: readonly IssuerJwk[] | undefined, kid: string): IssuerJwk | undefined {
  return keys?.find((k) => k.kid === kid);
}

/**
 * The keys of trusted card issuers: the inline JWKS from configuration first, then (when the
 * issuer has fetchJwks) `<iss>/.well-known/jwks.json` through the guarded fetch, cached and
 * refetched on an unknown kid at most once per cooldown.
 */
export class ShcIssuerKeys {
  private readonly remote: JwksCache;

  constructor(fetch: GuardedFetch, clock: Clock) {
    this.remote = new JwksCache(fetch, clock, "The SMART Health Card issuer's JWKS");
  }

  async find(issuer: ShcIssuerConfig, kid: string): Promise<IssuerJwk | undefined> {
    const inline = withKid(issuer.jwks?.keys as IssuerJwk[] | undefined, kid);
    if (inline || !issuer.fetchJwks) return inline;
    const url = issuerJwksUrl(issuer.iss);
    const found = withKid((await this.remote.current(url)).set.keys, kid);
    if (found) return found;
    return withKid((await this.remote.refreshed(url))?.set.keys, kid);
  }
}
