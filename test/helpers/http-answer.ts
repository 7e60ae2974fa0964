import { DomainError } from '../../src/errors.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { HttpError } from '../../src/http/http-error.js';

/** The HTTP answer the edge gives for an error a library threw, or undefined for any other error. */
export function httpAnswer(e: unknown): HttpError | undefined {
  if (e instanceof DomainError) return httpErrorOf(e);
  return e instanceof HttpError ? e : undefined;
}
