import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { NextFunction, Request, Response } from 'express';
import { DomainError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { sendFhir } from './body.js';
import { HttpError, type IssueCode, badRequest, issue, notFound, outcome, tooLarge, unsupportedMediaType } from './http-error.js';
import { requestId } from './request-context.js';

export const REMAINING_ATTEMPTS_URL = 'https://ktc-gateway.example/fhir/StructureDefinition/shl-remaining-attempts';

interface Answer {
  status: number;
  issue: IssueCode;
  /** Response headers and issue extensions drawn from the error's data. */
  decorate?: (e: DomainError) => { headers?: Record<string, string>; issue?: Partial<OperationOutcomeIssue> };
}

const invalidToken = () => ({ headers: { 'WWW-Authenticate': 'Bearer realm="ktc-gateway", error="invalid_token"' } });
const retryAfter = (e: DomainError) => (e.data.retryAfterSeconds === undefined ? {} : { headers: { 'Retry-After': String(e.data.retryAfterSeconds) } });

/**
 * The one place where a library's failure becomes HTTP. Refusals of what the caller sent are 4xx;
 * failures of a peer the gateway had to reach are 502/504.
 */
export const ANSWERS: Record<ErrorCode, Answer> = {
  ERR_SHC_INPUT: { status: 400, issue: 'invalid' },
  ERR_SHC_TOO_MANY_CARDS: { status: 413, issue: 'too-costly' },
  ERR_SHC_QR: { status: 400, issue: 'invalid' },
  ERR_SHC_JWS_MALFORMED: { status: 400, issue: 'invalid' },
  ERR_SHC_JWS_HEADER: { status: 422, issue: 'processing' },
  ERR_SHC_INFLATE_LIMIT: { status: 413, issue: 'too-costly' },
  ERR_SHC_DEFLATE: { status: 422, issue: 'processing' },
  ERR_SHC_PAYLOAD: { status: 422, issue: 'processing' },
  ERR_SHC_NOT_YET_VALID: { status: 422, issue: 'processing' },
  ERR_SHC_EXPIRED: { status: 422, issue: 'processing' },
  ERR_SHC_ISSUER_KEY: { status: 422, issue: 'processing' },
  ERR_SHC_UNKNOWN_KID: { status: 422, issue: 'processing' },
  ERR_SHC_SIGNATURE: { status: 422, issue: 'processing' },
  ERR_SHC_REVOKED: { status: 422, issue: 'processing' },
  ERR_SHC_ISSUER_UNTRUSTED: { status: 422, issue: 'processing' },
  ERR_SHC_REVOCATION_LIST: { status: 502, issue: 'transient' },
  ERR_SHL_INVALID: { status: 422, issue: 'processing' },
  ERR_SHL_INSECURE_URL: { status: 422, issue: 'security' },
  ERR_SHL_VERSION: { status: 422, issue: 'not-supported' },
  ERR_SHL_EXPIRED: { status: 410, issue: 'deleted' },
  ERR_SHL_INACTIVE: { status: 410, issue: 'deleted' },
  ERR_SHL_PASSCODE_REQUIRED: { status: 422, issue: 'security' },
  ERR_SHL_PASSCODE: {
    status: 422,
    issue: 'security',
    decorate: (e) => {
      const remaining = e.data.remainingAttempts;
      return typeof remaining === 'number' ? { issue: { extension: [{ url: REMAINING_ATTEMPTS_URL, valueInteger: remaining }] } } : {};
    },
  },
  ERR_SHL_HOST_THROTTLED: { status: 429, issue: 'throttled', decorate: retryAfter },
  ERR_SHL_HOST_ANSWER: { status: 502, issue: 'transient' },
  ERR_SHL_FILE_LIMIT: { status: 413, issue: 'too-costly' },
  ERR_SHL_FILE: { status: 422, issue: 'processing' },
  ERR_SHL_LINK_REQUEST: { status: 400, issue: 'invalid' },
  ERR_IDENTITY_TOKEN: { status: 401, issue: 'login', decorate: invalidToken },
  ERR_ACCESS_TOKEN: { status: 401, issue: 'login', decorate: invalidToken },
  ERR_IDENTITY_ASSURANCE: { status: 403, issue: 'security' },
  ERR_IDP_METADATA: { status: 502, issue: 'transient' },
  ERR_MDL_PATIENT_TOKEN: { status: 401, issue: 'login', decorate: invalidToken },
  ERR_MDL_THROTTLED: { status: 429, issue: 'throttled', decorate: retryAfter },
  ERR_MDL_NOT_CONFIGURED: { status: 400, issue: 'invalid' },
  ERR_MDL_MALFORMED: { status: 400, issue: 'invalid' },
  ERR_MDL_PRESENTATION: { status: 401, issue: 'login' },
  ERR_MDL_ASSURANCE: { status: 403, issue: 'security' },
  ERR_MDL_REQUEST_UNKNOWN: { status: 404, issue: 'not-found' },
  ERR_MDL_REQUEST_USED: { status: 409, issue: 'conflict' },
  ERR_MDL_REQUEST_EXPIRED: { status: 410, issue: 'deleted' },
  ERR_OUTBOUND_URL: { status: 422, issue: 'processing' },
  ERR_OUTBOUND_REFUSED: { status: 422, issue: 'security' },
  ERR_OUTBOUND_TIMEOUT: { status: 504, issue: 'timeout' },
  ERR_OUTBOUND_FAILED: { status: 502, issue: 'transient' },
  ERR_FHIR_INVALID: { status: 422, issue: 'processing' },
};

/** The HTTP answer for a library's failure: status, OperationOutcome (public text only) and headers. */
export function httpErrorOf(e: DomainError): HttpError {
  const answer = ANSWERS[e.code];
  const extra = answer.decorate?.(e) ?? {};
  const issues = e.issues ?? [{ ...issue(answer.issue, e.message, e.expression), ...extra.issue }];
  return new HttpError(answer.status, outcome(issues), extra.headers);
}

export function notFoundRoute(req: Request, _res: Response, next: NextFunction) {
  next(notFound(`No route for ${req.method} ${req.path.length > 200 ? 'this path' : req.path}`));
}

/** Maps errors thrown by body-parser and friends (they carry `type` and `status`). */
function fromParserError(err: { type?: string; status?: number }): HttpError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON');
    case 'entity.too.large':
      return tooLarge('The request body is larger than the gateway accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('The request body encoding or charset is not supported');
    case 'request.aborted':
      return badRequest('The request was aborted');
    case 'parameters.too.many':
      return tooLarge('Too many form parameters');
    default:
      if (err.status && err.status >= 400 && err.status < 500) return badRequest('The request could not be read');
      return undefined;
  }
}

function known(err: unknown, log: Logger, id: string): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof DomainError) {
    const answer = httpErrorOf(err);
    // The code and the internal detail (hosts, reasons; never PHI or secrets by DomainError's contract).
    const entry = { requestId: id, code: err.code, status: answer.status, ...(err.detail ? { detail: err.detail } : {}) };
    if (answer.status >= 500) log.warn(entry, 'upstream failure');
    else log.info(entry, 'request refused');
    return answer;
  }
  return fromParserError(err as { type?: string; status?: number });
}

/**
 * Last middleware: every error becomes an OperationOutcome. Unknown errors are 500 with only the
 * request id in the body; the log gets the error class and stack, never the request content.
 */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const id = requestId(res);
    const answer = known(err, log, id);
    if (answer) {
      for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
      sendFhir(res, answer.status, answer.outcome);
      return;
    }
    const e = err as Error;
    log.error({ requestId: id, err: { type: e?.name, message: e?.message, stack: e?.stack } }, 'unhandled error');
    sendFhir(res, 500, outcome([issue('exception', `Internal error; quote request id ${id} to the operator`)]));
  };
}
