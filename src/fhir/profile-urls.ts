/**
 * Canonical URLs of the StructureDefinitions in profiles/. They are our own authored profiles, so
 * they carry our own URLs, not the published ones they follow (profiles/README.md says which and why).
 */
const BASE = 'http://ktc-gateway.example/fhir/StructureDefinition';

export const PROFILE = {
  usCorePatient: `${BASE}/ktc-us-core-patient`,
  usCoreAllergyIntolerance: `${BASE}/ktc-us-core-allergyintolerance`,
  usCoreCondition: `${BASE}/ktc-us-core-condition`,
  usCoreBloodPressure: `${BASE}/ktc-us-core-blood-pressure`,
  ipsPatient: `${BASE}/ktc-ips-patient`,
  ipsAllergyIntolerance: `${BASE}/ktc-ips-allergyintolerance`,
  ipsCondition: `${BASE}/ktc-ips-condition`,
  ipsMedicationStatement: `${BASE}/ktc-ips-medicationstatement`,
  c4dicCoverage: `${BASE}/ktc-c4dic-coverage`,
  checkinCoverage: `${BASE}/ktc-checkin-coverage`,
  ipsBundle: `${BASE}/ktc-ips-bundle`,
  ipsComposition: `${BASE}/ktc-ips-composition`,
  shcPatient: `${BASE}/ktc-shc-patient`,
  visitSummaryBundle: `${BASE}/ktc-visit-summary-bundle`,
  visitSummaryComposition: `${BASE}/ktc-visit-summary-composition`,
} as const;

export type ProfileName = keyof typeof PROFILE;

const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition';
const IPS = 'http://hl7.org/fhir/uv/ips/StructureDefinition';

/** Published canonicals the gateway recognises in `meta.profile`. */
export const OFFICIAL = {
  usCorePatient: `${US_CORE}/us-core-patient`,
  usCoreAllergyIntolerance: `${US_CORE}/us-core-allergyintolerance`,
  usCoreConditionProblems: `${US_CORE}/us-core-condition-problems-health-concerns`,
  usCoreConditionEncounter: `${US_CORE}/us-core-condition-encounter-diagnosis`,
  usCoreBloodPressure: `${US_CORE}/us-core-blood-pressure`,
  usCoreMedicationRequest: `${US_CORE}/us-core-medicationrequest`,
  usCoreImmunization: `${US_CORE}/us-core-immunization`,
  ipsPatient: `${IPS}/Patient-uv-ips`,
  ipsAllergyIntolerance: `${IPS}/AllergyIntolerance-uv-ips`,
  ipsCondition: `${IPS}/Condition-uv-ips`,
  ipsMedicationStatement: `${IPS}/MedicationStatement-uv-ips`,
  ipsBundle: `${IPS}/Bundle-uv-ips`,
  ipsComposition: `${IPS}/Composition-uv-ips`,
  c4dicCoverage: 'http://hl7.org/fhir/us/insurance-card/StructureDefinition/C4DIC-Coverage',
  shcPatientAd: 'http://hl7.org/fhir/uv/shc-vaccination/StructureDefinition/shc-patient-general-ad',
  shcPatientDm: 'http://hl7.org/fhir/uv/shc-vaccination/StructureDefinition/shc-patient-general-dm',
} as const;

/**
 * Each published canonical → the authored profile that enforces it here, or `null` where the
 * published profile makes mandatory exactly what base R4 does (US Core MedicationRequest and
 * Immunization 6.1.0: status, intent, medication, subject; status, vaccineCode, patient,
 * occurrence), so the base spec is its profile and the claim is known, not unknown.
 */
export const AUTHORED_FOR_OFFICIAL: Readonly<Record<string, string | null>> = {
  [OFFICIAL.usCorePatient]: PROFILE.usCorePatient,
  [OFFICIAL.usCoreAllergyIntolerance]: PROFILE.usCoreAllergyIntolerance,
  [OFFICIAL.usCoreConditionProblems]: PROFILE.usCoreCondition,
  [OFFICIAL.usCoreConditionEncounter]: PROFILE.usCoreCondition,
  [OFFICIAL.usCoreBloodPressure]: PROFILE.usCoreBloodPressure,
  [OFFICIAL.usCoreMedicationRequest]: null,
  [OFFICIAL.usCoreImmunization]: null,
  [OFFICIAL.ipsPatient]: PROFILE.ipsPatient,
  [OFFICIAL.ipsAllergyIntolerance]: PROFILE.ipsAllergyIntolerance,
  [OFFICIAL.ipsCondition]: PROFILE.ipsCondition,
  [OFFICIAL.ipsMedicationStatement]: PROFILE.ipsMedicationStatement,
  [OFFICIAL.ipsBundle]: PROFILE.ipsBundle,
  [OFFICIAL.ipsComposition]: PROFILE.ipsComposition,
  [OFFICIAL.c4dicCoverage]: PROFILE.c4dicCoverage,
  [OFFICIAL.shcPatientAd]: PROFILE.shcPatient,
  [OFFICIAL.shcPatientDm]: PROFILE.shcPatient,
};

/** The published canonical an authored profile follows (the first one listed above). */
export const OFFICIAL_FOR_AUTHORED: ReadonlyMap<string, string> = new Map(
  Object.entries(AUTHORED_FOR_OFFICIAL)
    .reverse()
    .flatMap(([official, authored]) => (authored ? [[authored, official] as [string, string]] : [])),
);

/** `meta.profile` values may carry a version (`...|6.1.0`); profiles are looked up without it. */
export function canonicalWithoutVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}
