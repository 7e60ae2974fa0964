/**
 * SMART Health Links values the gateway and the patient viewer page must agree on. This module
 * imports nothing, so the page bundle (src/web/pages) can include it without any server code.
 */
export const SHLINK_PREFIX = 'shlink:/';
/** The spec's ceilings for the link payload's `url` and `label`. */
export const URL_MAX = 128;
export const LABEL_MAX = 80;
export const SHC_TYPE = 'application/smart-health-card';
export const FHIR_TYPE = 'application/fhir+json';
/** SHL files: compact JWE with these algorithms and, optionally, raw DEFLATE. */
export const JWE_ALG = 'dir';
export const JWE_ENC = 'A256GCM';
export const JWE_ZIP = 'DEF';
