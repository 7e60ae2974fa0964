import type { Bundle, Composition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { HttpError, outcome } from '../fhir/outcome.js';
import { PROFILE } from '../fhir/profile-urls.js';
import type { FhirValidator } from '../fhir/validator.js';

/**
 * A visit summary is a FHIR document: the Bundle against the visit-summary profile (Composition
 * first, an Encounter), every entry against the base spec (narrative XHTML rules included), and
 * the Composition's subject must be the Patient the check-in stored. Every problem, none thrown:
 * a pure function of its input, so it can run in a worker thread.
 */
export function visitBundleIssues(bundle: Bundle, checkinPatientId: string, fhir: FhirValidator): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [...fhir.check(bundle, PROFILE.visitSummaryBundle)];
  const composition = bundle.entry?.[0]?.resource;
  if (composition?.resourceType === 'Composition') {
    issues.push(...fhir.check(composition, PROFILE.visitSummaryComposition, 'Bundle.entry[0].resource'));
    if (!refersToPatient(bundle, composition, checkinPatientId)) {
      issues.push({
        severity: 'error',
        code: 'business-rule',
        diagnostics: `Composition.subject must reference the checked-in Patient (Patient/${checkinPatientId})`,
        expression: ['Bundle.entry[0].resource.subject'],
      });
    }
  }
  return dedupe(issues);
}

/** visitBundleIssues, refusing (422) with all of them when there is any. */
export function validateVisitBundle(bundle: Bundle, checkinPatientId: string, fhir: FhirValidator): void {
  const issues = visitBundleIssues(bundle, checkinPatientId, fhir);
  if (issues.length) throw new HttpError(422, outcome(issues));
}

function refersToPatient(bundle: Bundle, composition: Composition, patientId: string): boolean {
  const ref = composition.subject?.reference;
  if (!ref) return false;
  if (ref === `Patient/${patientId}` || ref.endsWith(`/Patient/${patientId}`)) return true;
  const target = bundle.entry?.find((e) => e.fullUrl === ref)?.resource;
  return target?.resourceType === 'Patient' && target.id === patientId;
}

/** Bundle-level and entry-level validation can report the same problem twice. */
function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.code}|${i.diagnostics}|${(i.expression ?? []).join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
