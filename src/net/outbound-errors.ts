import { DomainError } from '../errors.js';
import type { OutboundError } from './types.js';

/**
 * Who chose the URL: the caller (an SHL in a check-in: a refusal is their fault) or the gateway's
 * configuration (an issuer's keys: a refusal is an upstream failure like any other).
 */
export type UrlSource = 'caller' | 'config';

/**
 * The domain error for a failed outbound fetch of `what` (e.g. "SHL manifest"). Public text stays
 * generic: telling which address class a name resolved to would make the gateway a probe of
 * internal DNS, so the guard's reason goes to `detail` only.
 */
export function outboundFailure(e: OutboundError, what: string, source: UrlSource): DomainError {
  const detail = `${e.kind}: ${e.message}`;
  if (e.refused && source === 'config') return new DomainError('ERR_OUTBOUND_FAILED', `${what} is not an allowed destination`, { detail });
  switch (e.kind) {
    case 'bad-url':
      return new DomainError('ERR_OUTBOUND_URL', `${what} URL cannot be fetched: ${e.message}`, { detail });
    case 'insecure-scheme':
    case 'blocked-address':
      return new DomainError('ERR_OUTBOUND_REFUSED', `${what} URL is not an allowed destination`, { detail });
    case 'timeout':
      return new DomainError('ERR_OUTBOUND_TIMEOUT', `${what} did not answer in time`, { detail });
    case 'too-large':
      return new DomainError('ERR_OUTBOUND_FAILED', `${what} response is larger than allowed`, { detail });
    case 'dns':
    case 'unreachable':
      return new DomainError('ERR_OUTBOUND_FAILED', `${what} could not be reached`, { detail });
    case 'too-many-redirects':
      return new DomainError('ERR_OUTBOUND_FAILED', `${what} redirected too many times`, { detail });
    case 'status':
    case 'bad-body':
      return new DomainError('ERR_OUTBOUND_FAILED', `${what} ${e.message}`, { detail });
  }
}
