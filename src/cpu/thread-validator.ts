import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { PROFILES_DIR } from '../fhir/profiles.js';
import { createValidator, type FhirValidator, type ValidatorOptions } from '../fhir/validator.js';

let validator: FhirValidator | undefined;
let options: ValidatorOptions = {};

/** What this thread's validator is built with (FHIR_PACKAGES_DIR content); set before first use. */
export function configureThreadValidator(o: ValidatorOptions): void {
  options = o;
  validator = undefined;
}

/**
 * Validates the profiles' own examples once, against each profile: that loads what validation
 * otherwise loads on first use (resource definitions, terminology for required bindings, compiled
 * profiles) and lets the JIT see the hot paths, so none of it is charged to the first request's
 * validation budget. A profile of another type answers at once.
 */
function warm(v: FhirValidator): void {
  const dir = path.join(PROFILES_DIR, 'examples');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const example = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Resource;
    v.check(example);
    for (const url of v.profileUrls()) v.check(example, url);
  }
}

/**
 * One validator per thread, built (and warmed) on first use: medplum indexes definitions per
 * thread, and a thread that never validates (the main thread, when the worker pool does it) never
 * loads them.
 */
export function threadValidator(): FhirValidator {
  if (!validator) {
    validator = createValidator(options);
    warm(validator);
  }
  return validator;
}

/** A FhirValidator that builds this thread's validator only when first called. */
export function lazyValidator(): FhirValidator {
  return {
    check: (...a) => threadValidator().check(...a),
    checkAll: (...a) => threadValidator().checkAll(...a),
    knows: (url) => threadValidator().knows(url),
    validate: (...a) => threadValidator().validate(...a),
    checkBundle: (...a) => threadValidator().checkBundle(...a),
    validateBundle: (...a) => threadValidator().validateBundle(...a),
    profileUrls: () => threadValidator().profileUrls(),
  };
}
