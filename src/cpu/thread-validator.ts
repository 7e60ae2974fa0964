import { createValidator, type FhirValidator } from '../fhir/validator.js';

let validator: FhirValidator | undefined;

/**
 * One validator per thread, built on first use: medplum indexes definitions per thread, and a
 * thread that never validates (the main thread, when the worker pool does it) never loads them.
 */
export function threadValidator(): FhirValidator {
  validator ??= createValidator();
  return validator;
}

/** A FhirValidator that builds this thread's validator only when first called. */
export function lazyValidator(): FhirValidator {
  return {
    check: (...a) => threadValidator().check(...a),
    validate: (...a) => threadValidator().validate(...a),
    checkBundle: (...a) => threadValidator().checkBundle(...a),
    validateBundle: (...a) => threadValidator().validateBundle(...a),
    profileUrls: () => threadValidator().profileUrls(),
  };
}
