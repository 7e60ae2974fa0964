import { HttpError, badGateway, gatewayTimeout, issue, outcome, unprocessable } from '../fhir/outcome.js';
import type { OutboundError } from './types.js';

/**
 * The OperationOutcome for a failed outbound fetch of `what` (e.g. "SHL manifest"). Refusals are
 * the caller's doing (they supplied the URL), upstream failures are not. Refusal diagnostics stay
 * generic: telling which address class a name resolved to would make the gateway a probe of
 * internal DNS.
 */
export function toHttpError(e: OutboundError, what: string): HttpError {
  switch (e.kind) {
    case 'bad-url':
      return unprocessable(`${what} URL cannot be fetched: ${e.message}`);
    case 'blocked':
      return new HttpError(422, outcome([issue('security', `${what} URL is not an allowed destination`)]));
    case 'timeout':
      return gatewayTimeout(`${what} did not answer in time`);
    case 'too-large':
      // 502, not 413: 413 would tell the client its own request is too big, while it is the
      // upstream's answer that broke the gateway's limit.
      return badGateway(`${what} response is larger than allowed`);
    case 'unreachable':
      return badGateway(`${what} could not be reached`);
    case 'too-many-redirects':
      return badGateway(`${what} redirected too many times`);
  }
}
