/** The FHIR release the gateway speaks (R4): CapabilityStatement, SHC credentialSubject, SHL manifests. */
export const FHIR_VERSION = '4.0.1';
