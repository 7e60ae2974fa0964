import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { HttpError, outcome } from '../fhir/outcome.js';
import { PROFILE } from '../fhir/profile-urls.js';
import type { FhirValidator } from '../fhir/validator.js';
import { entriesOf, type ReceivedContent } from './received.js';

/** Resource types a check-in may carry; anything else is refused rather than stored unexamined. */
export const CHECKIN_RESOURCE_TYPES = new Set([
  'Patient',
  'Coverage',
  'AllergyIntolerance',
  'Condition',
  'MedicationStatement',
  'MedicationRequest',
  'Medication',
  'Immunization',
  'Observation',
  'Procedure',
  'DiagnosticReport',
  'Organization',
  'Practitioner',
  'RelatedPerson',
  'Composition',
  'Device',
  'DocumentReference',
]);

const FHIR_PROFILES: Partial<Record<Resource['resourceType'], string>> = {
  Patient: PROFILE.usCorePatient,
  Coverage: PROFILE.c4dicCoverage,
  AllergyIntolerance: PROFILE.usCoreAllergyIntolerance,
  Condition: PROFILE.usCoreCondition,
  MedicationStatement: PROFILE.ipsMedicationStatement,
};

const SHC_PROFILES: Partial<Record<Resource['resourceType'], string>> = {
  Patient: PROFILE.shcPatient,
};

/**
 * Validates every received resource against the base spec and its profile, and reports all
 * problems together (422), each located as `Bundle.entry[i].resource...` in the bundle sent.
 */
export function validateReceived(content: ReceivedContent, fhir: FhirValidator): void {
  const issues: OperationOutcomeIssue[] = [];
  const entries = entriesOf(content);
  content.bundles.forEach(({ bundle }, i) => {
    if (bundle.type === undefined) {
      issues.push({ severity: 'error', code: 'required', diagnostics: 'Bundle.type is required', expression: [bundlePath(content, i, 'Bundle.type')] });
    }
  });
  for (const e of entries) {
    const at = bundlePath(content, e.bundleIndex, `Bundle.entry[${e.entryIndex}].resource`);
    if (!CHECKIN_RESOURCE_TYPES.has(e.resource.resourceType)) {
      issues.push({ severity: 'error', code: 'not-supported', diagnostics: `${e.resource.resourceType} is not accepted at check-in`, expression: [at] });
      continue;
    }
    const profiles = e.profileSet === 'shc' ? SHC_PROFILES : FHIR_PROFILES;
    issues.push(...fhir.check(e.resource, profiles[e.resource.resourceType], at));
  }
  const patients = entries.filter((e) => e.resource.resourceType === 'Patient');
  if (patients.length !== 1) {
    issues.push({
      severity: 'error',
      code: 'business-rule',
      diagnostics: `A check-in needs exactly one Patient; found ${patients.length}`,
      expression: ['Bundle.entry'],
    });
  }
  if (issues.length) throw new HttpError(422, outcome(issues));
}

/** With several bundles (several cards or files) the path names which one. */
function bundlePath(content: ReceivedContent, bundleIndex: number, path: string): string {
  return content.bundles.length > 1 ? `(${content.method}[${bundleIndex}]).${path}` : path;
}
