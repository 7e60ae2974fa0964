/**
 * Canonical URLs of the StructureDefinitions in profiles/. They are our own authored profiles, so
 * they carry our own URLs, not the published ones they follow (profiles/README.md says which and why).
 * US Core MedicationRequest and Immunization have no entry: their mandatory elements are exactly
 * base R4's, so the base spec is their profile.
 */
const BASE = 'http://ktc-gateway.example/fhir/StructureDefinition';

export const PROFILE = {
  usCorePatient: `${BASE}/ktc-us-core-patient`,
  usCoreAllergyIntolerance: `${BASE}/ktc-us-core-allergyintolerance`,
  usCoreCondition: `${BASE}/ktc-us-core-condition`,
  ipsMedicationStatement: `${BASE}/ktc-ips-medicationstatement`,
  c4dicCoverage: `${BASE}/ktc-c4dic-coverage`,
  ipsBundle: `${BASE}/ktc-ips-bundle`,
  ipsComposition: `${BASE}/ktc-ips-composition`,
  shcPatient: `${BASE}/ktc-shc-patient`,
  visitSummaryBundle: `${BASE}/ktc-visit-summary-bundle`,
  visitSummaryComposition: `${BASE}/ktc-visit-summary-composition`,
} as const;

export type ProfileName = keyof typeof PROFILE;
