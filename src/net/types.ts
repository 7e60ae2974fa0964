/** The one way the gateway reaches other hosts (SHL hosts, JWKS, subscriber endpoints). */

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline, connect to last byte. */
  timeoutMs?: number;
  /** Response bodies larger than this fail with kind `too-large`. */
  maxBytes?: number;
  /** Each hop is re-checked by the address guard; default 3. */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The final URL after redirects. */
  url: string;
}

/**
 * Why an outbound request failed. The first three are refusals of the URL itself (decided before
 * any connection); the rest are the upstream's failures. `status` and `bad-body` come from helpers
 * that expect a particular answer (fetchJson), never from GuardedFetch itself.
 */
export type OutboundErrorKind =
  | 'bad-url' // not an absolute http(s) URL, credentials in it, or an invalid redirect
  | 'insecure-scheme' // plain http to a host that is not allowlisted
  | 'blocked-address' // the host resolves to an address the policy forbids
  | 'dns' // the name did not resolve
  | 'unreachable' // no connection
  | 'timeout'
  | 'too-large'
  | 'too-many-redirects'
  | 'status' // an answer with a status the helper does not accept
  | 'bad-body'; // an answer whose body is not what the helper expects

/** The kinds that refuse the URL itself: the fault of whoever chose it. */
const REFUSALS: ReadonlySet<OutboundErrorKind> = new Set(['bad-url', 'insecure-scheme', 'blocked-address']);

/**
 * Thrown by GuardedFetch. `message` names the host at most (paths of SHL URLs are secrets); it is
 * detail for logs and for callers' internal decisions, which use `kind`, never the text.
 */
export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }

  get refused(): boolean {
    return REFUSALS.has(this.kind);
  }
}

export type GuardedFetch = (url: string, req?: OutboundRequest) => Promise<OutboundResponse>;
