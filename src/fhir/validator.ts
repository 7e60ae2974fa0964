import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { requiredBindingIssues } from './bindings.js';
import { validateAgainstProfile } from './compiled-profiles.js';
import { HttpError, outcome } from './outcome.js';
import { baseStructureDefinitions, loadProfiles } from './profiles.js';

export interface FhirValidator {
  /**
   * Validates against the base R4 spec, and against `profileUrl` when given (a profile in
   * profiles/). Throws HttpError 422 with one issue per problem, each with a FHIRPath `expression`.
   */
  validate(resource: Resource, profileUrl?: string): void;
  /** The problems, without throwing (used to validate many resources and report them together). */
  check(resource: Resource, profileUrl?: string, pathPrefix?: string): OperationOutcomeIssue[];
  /**
   * The problems of a whole Bundle: every entry resource against the base spec and against the
   * profile `profileByType` names for its type (issues at `Bundle.entry[i].resource...`), and the
   * Bundle itself against `bundleProfile` when given.
   */
  checkBundle(bundle: Bundle, profileByType?: Partial<Record<string, string>>, bundleProfile?: string): OperationOutcomeIssue[];
  /** checkBundle, throwing HttpError 422 when there is any problem. */
  validateBundle(bundle: Bundle, profileByType?: Partial<Record<string, string>>, bundleProfile?: string): void;
  profileUrls(): string[];
}

let indexedDatatypes = false;
const indexedResources = new Set<string>();

/** medplum keeps its type index per thread; index the R4 datatypes once. */
function indexBaseDefinitions(): void {
  if (indexedDatatypes) return;
  indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: baseStructureDefinitions().datatypes.map((resource) => ({ resource })) });
  indexedDatatypes = true;
}

/** Resource definitions are indexed on first use, for the resource and every resource nested in it. */
function indexResourceTypesIn(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop() as object;
    const type = (v as { resourceType?: unknown }).resourceType;
    if (typeof type === 'string' && !indexedResources.has(type)) {
      indexedResources.add(type);
      const sd = baseStructureDefinitions().get(type);
      if (sd?.kind === 'resource') indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: sd }] });
    }
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) pending.push(child);
  }
}

function prefixed(issue: OperationOutcomeIssue, prefix: string | undefined): OperationOutcomeIssue {
  // medplum puts the human text (e.g. "Constraint us-core-6 not met: ...") in details and the raw FHIRPath in diagnostics.
  const diagnostics = issue.details?.text ?? issue.diagnostics;
  const rebase = (e: string) => (e.includes('.') ? `${prefix}${e.slice(e.indexOf('.'))}` : `${prefix}`);
  const expression = prefix && issue.expression ? issue.expression.map(rebase) : issue.expression;
  return {
    severity: issue.severity,
    code: issue.code === 'structure' ? 'structure' : issue.code,
    ...(diagnostics ? { diagnostics } : {}),
    ...(expression ? { expression } : {}),
  };
}

/** medplum's structure, cardinality, fixed/pattern and invariant checks (it throws when any is an error). */
function structureIssues(resource: Resource, profile: StructureDefinition | undefined): OperationOutcomeIssue[] {
  try {
    return profile ? validateAgainstProfile(resource, profile) : validateResource(resource);
  } catch (e) {
    if (e instanceof OperationOutcomeError) return e.outcome.issue ?? [];
    // medplum walks the input assuming FHIR's JSON shapes; malformed ones (e.g. `_status: [false]`)
    // make it throw a TypeError. That is the sender's structure error, not ours.
    if (e instanceof TypeError) {
      return [{ severity: 'error', code: 'structure', diagnostics: `${resource.resourceType} is not well-formed FHIR JSON`, expression: [resource.resourceType] }];
    }
    throw e;
  }
}

/** As for request bodies (src/http/body.ts): real resources nest a few dozen levels at most. */
export const MAX_RESOURCE_DEPTH = 100;

/** Whether objects and arrays nest deeper than `max` (the root counts as 1), without recursing. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
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
      if (profile.type !== resource.resourceType) {
        return [{ severity: 'error', code: 'structure', diagnostics: `The profile applies only to ${profile.type} resources`, expression: [pathPrefix ?? 'Resource'] }];
      }
    }
    const definition = profile ?? baseStructureDefinitions().get(resource.resourceType);
    if (definition?.kind !== 'resource' || definition.abstract) {
      return [{ severity: 'error', code: 'structure', diagnostics: 'Unknown resource type', expression: [pathPrefix ?? 'Resource'] }];
    }
    // Both walks recurse, and so does storing (JSON.stringify): a stack overflow would be the only
    // limit without this one, and where it strikes depends on the stack in use, so a resource
    // just shallow enough to validate could still fail (500) when stored.
    if (nestedDeeperThan(resource, MAX_RESOURCE_DEPTH)) {
      const where = [pathPrefix ?? resource.resourceType];
      return [{ severity: 'error', code: 'too-costly', diagnostics: `The resource nests deeper than ${MAX_RESOURCE_DEPTH} levels`, expression: where }];
    }
    indexResourceTypesIn(resource);
    const issues = [...structureIssues(resource, profile), ...requiredBindingIssues(resource, definition)];
    return issues
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => prefixed({ ...i, expression: i.expression ?? [resource.resourceType] }, pathPrefix));
  };

  const checkBundle = (bundle: Bundle, profileByType: Partial<Record<string, string>> = {}, bundleProfile?: string): OperationOutcomeIssue[] => {
    // Validating the Bundle already checks each entry against the base spec; entry checks against a
    // profile repeat those issues, so keep each one once.
    const seen = new Set<string>();
    const issues = check(bundle, bundleProfile);
    (Array.isArray(bundle.entry) ? bundle.entry : []).forEach((entry: unknown, i) => {
      const resource = (entry as { resource?: unknown } | null)?.resource as Resource | undefined;
      const type = resource?.resourceType;
      const profileUrl = typeof type === 'string' && Object.hasOwn(profileByType, type) ? profileByType[type] : undefined;
      if (profileUrl) issues.push(...check(resource!, profileUrl, `Bundle.entry[${i}].resource`));
    });
    return issues.filter((issue) => {
      const key = JSON.stringify([issue.code, issue.diagnostics, issue.expression]);
      return !seen.has(key) && Boolean(seen.add(key));
    });
  };

  return {
    check,
    validate(resource, profileUrl) {
      const issues = check(resource, profileUrl);
      if (issues.length) throw new HttpError(422, outcome(issues));
    },
    checkBundle,
    validateBundle(bundle, profileByType, bundleProfile) {
      const issues = checkBundle(bundle, profileByType, bundleProfile);
      if (issues.length) throw new HttpError(422, outcome(issues));
    },
    profileUrls: () => [...profiles.keys()],
  };
}
