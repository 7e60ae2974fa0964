import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

/**
 * An answer decided at the HTTP edge (routes, guards, body parsing): a status and an
 * OperationOutcome. Libraries throw DomainError (src/errors.ts) instead; src/http/errors.ts maps those.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(status: number, outcome: OperationOutcome, headers: Record<string, string> = {}) {
    super(outcome.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
    this.status = status;
    this.outcome = outcome;
    this.headers = headers;
  }
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function issue(code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, ...(expression?.length ? { expression } : {}) };
}

function fail(status: number, code: IssueCode) {
  return (diagnostics: string, expression?: string[], headers?: Record<string, string>) => new HttpError(status, outcome([issue(code, diagnostics, expression)]), headers);
}

export const badRequest = fail(400, 'invalid');
export const unauthorized = fail(401, 'login');
export const forbidden = fail(403, 'security');
export const notFound = fail(404, 'not-found');
export const conflict = fail(409, 'conflict');
export const gone = fail(410, 'deleted');
export const tooLarge = fail(413, 'too-costly');
export const unsupportedMediaType = fail(415, 'not-supported');
export const unprocessable = fail(422, 'processing');
export const businessRule = fail(422, 'business-rule');
export const throttled = fail(429, 'throttled');
export const badGateway = fail(502, 'transient');
export const gatewayTimeout = fail(504, 'timeout');
