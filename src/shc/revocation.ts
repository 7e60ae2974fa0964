import { z } from 'zod';
import type { Clock } from '../clock.js';
import { DomainError } from '../errors.js';
import { fetchJson } from '../net/fetch-json.js';
import type { GuardedFetch } from '../net/types.js';

/** A list older than the key's crlVersion (an issuer's CDN lagging) is refetched at most this often. */
export const STALE_CRL_RETRY_MS = 30_000;

const crlSchema = z.object({
  kid: z.string(),
  method: z.string(),
  ctr: z.number().int().min(1),
  rids: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,24}(\.\d+(\.\d+)?)?$/)),
});

interface RevocationList {
  ctr: number;
  fetchedAt: number;
  /** rid → the card is revoked when its nbf is before this (Infinity: revoked whatever its nbf). */
  revokedBefore: Map<string, number>;
}

export function crlUrl(iss: string, kid: string): string {
  return `${iss}/.well-known/crl/${kid}.json`;
}

function index(rids: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of rids) {
    const dot = entry.indexOf('.');
    const rid = dot < 0 ? entry : entry.slice(0, dot);
    const until = dot < 0 ? Infinity : Number(entry.slice(dot + 1));
    out.set(rid, Math.max(out.get(rid) ?? -Infinity, until));
  }
  return out;
}

/**
 * Card revocation lists (spec §"Revocation"): `<iss>/.well-known/crl/<kid>.json`, fetched through
 * the guarded fetch and reused while the key's crlVersion is not newer than the list's ctr. A list
 * that cannot be fetched or read fails the check (502): a revoked card must not pass for want of it.
 */
export class RevocationLists {
  private readonly lists = new Map<string, RevocationList>();
  private readonly inflight = new Map<string, Promise<RevocationList>>();

  constructor(
    private readonly fetch: GuardedFetch,
    private readonly clock: Clock,
  ) {}

  async isRevoked(card: { iss: string; kid: string; crlVersion: number; rid: string; nbf: number }): Promise<boolean> {
    const list = await this.current(card.iss, card.kid, card.crlVersion);
    return card.nbf < (list.revokedBefore.get(card.rid) ?? -Infinity);
  }

  private async current(iss: string, kid: string, crlVersion: number): Promise<RevocationList> {
    const url = crlUrl(iss, kid);
    const cached = this.lists.get(url);
    if (cached && (cached.ctr >= crlVersion || this.clock.now() - cached.fetchedAt < STALE_CRL_RETRY_MS)) return cached;
    const pending = this.inflight.get(url);
    if (pending) return pending;
    const p = this.load(url, kid).finally(() => this.inflight.delete(url));
    this.inflight.set(url, p);
    return p;
  }

  private async load(url: string, kid: string): Promise<RevocationList> {
    const what = "The SMART Health Card issuer's revocation list";
    const parsed = crlSchema.safeParse((await fetchJson(this.fetch, url, what)).json);
    if (!parsed.success) throw new DomainError('ERR_SHC_REVOCATION_LIST', `${what} is malformed`);
    if (parsed.data.kid !== kid) throw new DomainError('ERR_SHC_REVOCATION_LIST', `${what} is for another key`);
    if (parsed.data.method !== 'rid') throw new DomainError('ERR_SHC_REVOCATION_LIST', `${what} uses a method other than rid`);
    const list = { ctr: parsed.data.ctr, fetchedAt: this.clock.now(), revokedBefore: index(parsed.data.rids) };
    this.lists.set(url, list);
    return list;
  }
}
