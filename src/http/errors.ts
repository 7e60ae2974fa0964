import type { NextFunction, Request, Response } from 'express';
import { HttpError, badRequest, issue, notFound, outcome, tooLarge, unsupportedMediaType } from '../fhir/outcome.js';
import type { Logger } from '../log.js';
import { sendFhir } from './body.js';
import { requestId } from './request-context.js';

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
    const known = err instanceof HttpError ? err : fromParserError(err as { type?: string; status?: number });
    if (known) {
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      sendFhir(res, known.status, known.outcome);
      return;
    }
    const id = requestId(res);
    const e = err as Error;
    log.error({ requestId: id, err: { type: e?.name, message: e?.message, stack: e?.stack } }, 'unhandled error');
    sendFhir(res, 500, outcome([issue('exception', `Internal error; quote request id ${id} to the operator`)]));
  };
}
