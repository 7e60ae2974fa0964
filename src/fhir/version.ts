/** The FHIR release the gateway speaks (R4): CapabilityStatement, SHC credentialSubject, SHL manifests. */
export const FHIR_VERSION = '4.0.1';

/** What a `fhirVersion` MIME-type parameter may say for this release: major.minor or the full version. */
export const FHIR_VERSION_PARAMETERS: readonly string[] = [FHIR_VERSION.split('.').slice(0, 2).join('.'), FHIR_VERSION];
