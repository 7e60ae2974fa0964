import { loadDataType, validateTypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { baseStructureDefinitions } from './profiles.js';

/**
 * medplum's validateResource(resource, { profile }) parses the profile's StructureDefinition on
 * every call (about 4 ms of a 5 ms validation). Registering the profile once as a data type whose
 * name is its URL lets validateTypedValue reuse the parsed schema: same checks, same issues
 * (test/fhir/compiled-profiles.test.ts compares both ways).
 */
const compiled = new WeakSet<StructureDefinition>();

function compiledName(profile: StructureDefinition): string {
  const name = profile.url;
  if (!name) throw new Error(`profile ${profile.name ?? ''} has no url`);
  if (!compiled.has(profile)) {
    // medplum indexes a StructureDefinition whose type is an absolute URL under that URL...
    loadDataType({ ...profile, name, type: name });
    // ...and its backbone types under their plain names (BundleEntry), for every validation. Put the
    // base ones back: validateResource too checks nested backbone elements against the base type.
    const base = baseStructureDefinitions().get(profile.type ?? '');
    if (base) loadDataType(base);
    compiled.add(profile);
  }
  return name;
}

/** validateResource against a profile, parsed once per profile object; throws as medplum does. */
export function validateAgainstProfile(resource: Resource, profile: StructureDefinition): OperationOutcomeIssue[] {
  return validateTypedValue({ type: compiledName(profile), value: resource }, {});
}
