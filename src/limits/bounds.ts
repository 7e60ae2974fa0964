import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { HttpError, issue, outcome, tooLarge } from '../fhir/outcome.js';
import type { FhirValidator } from '../fhir/validator.js';

/**
 * Bounds on the work one request can cause, shared by every path that validates FHIR (check-in
 * inline, SHC, SHL; visit documents; FHIR writes). The caps themselves live in config
 * (WorkLimits); these helpers apply them.
 */

export interface IssueBounds {
  maxIssues: number;
}

/** The first `max` issues, then one issue saying how many more there were. */
export function capIssues(issues: OperationOutcomeIssue[], max: number): OperationOutcomeIssue[] {
  if (issues.length <= max) return issues;
  const more = issues.length - max;
  return [...issues.slice(0, max), issue('too-costly', `${more} more issue${more === 1 ? '' : 's'} not listed (at most ${max} are)`)];
}

/** An HttpError whose OperationOutcome lists at most `max` issues; other errors unchanged. */
export function withCappedIssues(e: unknown, max: number): unknown {
  if (!(e instanceof HttpError) || (e.outcome.issue?.length ?? 0) <= max) return e;
  return new HttpError(e.status, outcome(capIssues(e.outcome.issue ?? [], max)), e.headers);
}

export function entryCount(bundles: Bundle[]): number {
  return bundles.reduce((n, b) => n + (Array.isArray(b.entry) ? b.entry.length : 0), 0);
}

/** Refused before anything is validated: the count costs nothing, validating each entry does. */
export function assertEntryCount(count: number, max: number): void {
  if (count > max) throw tooLarge(`The content carries ${count} entries; at most ${max} are accepted in one request`, ['Bundle.entry']);
}

export function tooComplex(budgetMs: number): HttpError {
  return new HttpError(422, outcome([issue('too-costly', `The content is too complex to validate within ${budgetMs} ms; send fewer or simpler resources`)]));
}

/**
 * The validator, refusing (422 too complex) any check that starts after `budgetMs` of elapsed
 * time. Validation runs resource by resource, so the overrun is at most one resource's worth; the
 * worker pool's hard timeout covers a single pathological resource.
 */
export function budgeted(fhir: FhirValidator, budgetMs: number, now: () => number = () => performance.now()): FhirValidator {
  const deadline = now() + budgetMs;
  const guard =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      if (now() > deadline) throw tooComplex(budgetMs);
      return f(...a);
    };
  return {
    check: guard(fhir.check),
    checkAll: guard(fhir.checkAll),
    knows: fhir.knows,
    validate: guard(fhir.validate),
    checkBundle: guard(fhir.checkBundle),
    validateBundle: guard(fhir.validateBundle),
    profileUrls: fhir.profileUrls,
  };
}
