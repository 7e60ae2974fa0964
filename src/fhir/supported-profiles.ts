import type { CapabilityContribution } from './capability.js';
import { AUTHORED_FOR_OFFICIAL, OFFICIAL } from './profile-urls.js';

/** The published profiles a check-in resource may claim and have enforced, by resource type. */
const SUPPORTED: [type: string, official: string[]][] = [
  ['Patient', [OFFICIAL.usCorePatient, OFFICIAL.ipsPatient, OFFICIAL.shcPatientAd, OFFICIAL.shcPatientDm]],
  ['AllergyIntolerance', [OFFICIAL.usCoreAllergyIntolerance, OFFICIAL.ipsAllergyIntolerance]],
  ['Condition', [OFFICIAL.usCoreConditionProblems, OFFICIAL.usCoreConditionEncounter, OFFICIAL.ipsCondition]],
  ['MedicationStatement', [OFFICIAL.ipsMedicationStatement]],
  ['Observation', [OFFICIAL.usCoreBloodPressure]],
  ['MedicationRequest', [OFFICIAL.usCoreMedicationRequest]],
  ['Immunization', [OFFICIAL.usCoreImmunization]],
  ['Coverage', [OFFICIAL.c4dicCoverage]],
  ['Bundle', [OFFICIAL.ipsBundle]],
  ['Composition', [OFFICIAL.ipsComposition]],
];

function enforced(official: string[]): string {
  const authored = [...new Set(official.map((url) => AUTHORED_FOR_OFFICIAL[url]))];
  const rules = authored.map((url) => (url ? url.slice(url.lastIndexOf('/') + 1) : 'the base spec (it requires no more)')).join(', ');
  return `enforced: ${rules} (profiles/README.md lists each rule), or the published profile itself when FHIR_PACKAGES_DIR holds its package`;
}

/**
 * The profiles check-in enforces, as `supportedProfile` (their published canonicals) with what is
 * actually enforced for each: the authored subsets do not check must-support, slicing or
 * extensible bindings. A profile claimed but not listed is reported as a warning, not enforced.
 */
export const checkinProfilesCapability: CapabilityContribution = {
  resources: SUPPORTED.map(([type, official]) => ({
    type: type as never,
    supportedProfile: official,
    documentation: `Accepted in check-in Bundles (POST /checkin); a resource claiming one of these profiles in meta.profile is validated against it, ${enforced(official)}. Other claimed profiles give a warning issue; every resource is held to base R4 and its narrative to the FHIR XHTML rules (txt-1).`,
  })),
};
