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

export type OutboundErrorKind = 'bad-url' | 'blocked' | 'unreachable' | 'timeout' | 'too-large' | 'too-many-redirects';

/** Thrown by GuardedFetch; callers turn it into the right OperationOutcome (4xx for blocked/bad-url, 502/504 otherwise). */
export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export type GuardedFetch = (url: string, req?: OutboundRequest) => Promise<OutboundResponse>;
