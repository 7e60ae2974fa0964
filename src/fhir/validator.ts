import { OperationOutcomeError, indexStructureDefinitionBundle, loadDataType, validateResource, validateTypedValue } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { DomainError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../json-limits.js';
import { requiredBindingIssues } from './bindings.js';
import { narrativeIssues } from './narrative.js';
import type { PackageContent } from './packages.js';
import { OFFICIAL_FOR_AUTHORED } from './profile-urls.js';
import { baseStructureDefinitions, loadProfiles } from './profiles.js';

const invalid = (issues: OperationOutcomeIssue[]) => new DomainError('ERR_FHIR_INVALID', 'The resource is not valid', { issues });

export interface FhirValidator {
  /**
   * Validates against the base R4 spec (narrative XHTML rules included), and against `profileUrl`
   * when given (a profile in profiles/ or from a FHIR package). Throws ERR_FHIR_INVALID with one issue
   * per problem, each with a FHIRPath `expression`.
   */
  validate(resource: Resource, profileUrl?: string): void;
  /** The problems, without throwing (used to validate many resources and report them together). */
  check(resource: Resource, profileUrl?: string, pathPrefix?: string): OperationOutcomeIssue[];
  /** The problems against the base spec and every profile in `profileUrls`, each reported once. */
  checkAll(resource: Resource, profileUrls: readonly string[], pathPrefix?: string): OperationOutcomeIssue[];
  /** Whether `url` (no version) names a profile this validator enforces: authored, or from a package. */
  knows(url: string): boolean;
  /**
   * The problems of a whole Bundle: every entry resource against the base spec and against the
   * profile `profileByType` names for its type (issues at `Bundle.entry[i].resource...`), and the
   * Bundle itself against `bundleProfile` when given.
   */
  checkBundle(bundle: Bundle, profileByType?: Partial<Record<string, string>>, bundleProfile?: string): OperationOutcomeIssue[];
  /** checkBundle, throwing ERR_FHIR_INVALID when there is any problem. */
  validateBundle(bundle: Bundle, profileByType?: Partial<Record<string, string>>, bundleProfile?: string): void;
  profileUrls(): string[];
}

export interface ValidatorOptions {
  profilesDir?: string;
  /** FHIR_PACKAGES_DIR content: its profiles and value sets take precedence over authored look-alikes. */
  packages?: PackageContent;
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

const profileKeys = new WeakMap<StructureDefinition, string>();
let profileCount = 0;

/**
 * medplum parses a profile's snapshot on every `validateResource(r, {profile})` call (about 10 ms
 * for a 45-element Patient), which would make every claimed profile cost as much as ten base
 * checks. Indexed once as a data type under a private key (medplum indexes a type whose name is a
 * URL globally), the same schema is reused by `validateTypedValue`, with the same issues.
 * Indexing also registers the profile's backbone types under the base type's names (BundleEntry,
 * CompositionSection...), which would impose the profile on every resource of that type; indexing
 * the base definition again puts the base ones back (the profile's schema keeps its own).
 */
function profileKey(profile: StructureDefinition): string {
  let key = profileKeys.get(profile);
  if (!key) {
    key = `${profile.url}#ktc-${++profileCount}`;
    loadDataType({ ...profile, type: key });
    const base = baseStructureDefinitions().get(profile.type ?? '');
    if (base) loadDataType(base);
    profileKeys.set(profile, key);
  }
  return key;
}

/** medplum's structure, cardinality, fixed/pattern and invariant checks (it throws when any is an error). */
function structureIssues(resource: Resource, profile: StructureDefinition | undefined): OperationOutcomeIssue[] {
  indexBaseDefinitions();
  try {
    return profile ? validateTypedValue({ type: profileKey(profile), value: resource }) : validateResource(resource);
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

/** Issues found twice (base rules re-checked under each profile, Bundle and entry walks) count once. */
function unique(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.code, issue.diagnostics, issue.expression]);
    return !seen.has(key) && Boolean(seen.add(key));
  });
}

const notAResource = (where: string): OperationOutcomeIssue[] => [
  { severity: 'error', code: 'structure', diagnostics: 'Not a FHIR resource (no resourceType)', expression: [where] },
];

/**
 * Cheap to construct: the R4 definitions and the authored profiles are read on the first check,
 * so a worker thread can build its own validator without paying for it up front.
 */
export function createValidator(options: ValidatorOptions | string = {}): FhirValidator {
  const { profilesDir, packages } = typeof options === 'string' ? { profilesDir: options, packages: undefined } : options;
  let authored: Map<string, StructureDefinition> | undefined;
  const authoredProfiles = () => (authored ??= loadProfiles(profilesDir));

  /** A package's profile wins over the authored look-alike that follows the same published canonical. */
  const profileFor = (url: string): StructureDefinition | undefined => {
    const fromPackage = packages?.profiles.get(url) ?? packages?.profiles.get(OFFICIAL_FOR_AUTHORED.get(url) ?? '');
    return fromPackage ?? authoredProfiles().get(url);
  };

  const checkAll = (resource: Resource, profileUrls: readonly string[], pathPrefix?: string): OperationOutcomeIssue[] => {
    const where = pathPrefix ?? (resource as { resourceType?: unknown } | null)?.resourceType;
    if (typeof resource !== 'object' || resource === null || typeof resource.resourceType !== 'string') return notAResource(pathPrefix ?? 'Resource');
    const base = baseStructureDefinitions().get(resource.resourceType);
    if (base?.kind !== 'resource' || base.abstract) {
      return [{ severity: 'error', code: 'structure', diagnostics: 'Unknown resource type', expression: [pathPrefix ?? 'Resource'] }];
    }
    // Both walks recurse, and so does storing (JSON.stringify): a stack overflow would be the only
    // limit without this one, and where it strikes depends on the stack in use, so a resource
    // just shallow enough to validate could still fail (500) when stored.
    if (nestedDeeperThan(resource, MAX_JSON_DEPTH)) {
      return [{ severity: 'error', code: 'too-costly', diagnostics: `The resource nests deeper than ${MAX_JSON_DEPTH} levels`, expression: [String(where)] }];
    }
    indexResourceTypesIn(resource);
    const issues: OperationOutcomeIssue[] = [];
    const definitions: (StructureDefinition | undefined)[] = profileUrls.length ? [] : [undefined];
    for (const url of profileUrls) {
      const profile = profileFor(url);
      if (!profile) throw new Error(`profile ${url} is not loaded`);
      if (profile.type !== resource.resourceType) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `The profile applies only to ${profile.type} resources`, expression: [String(where)] });
      } else definitions.push(profile);
    }
    for (const profile of definitions) {
      issues.push(...structureIssues(resource, profile), ...requiredBindingIssues(resource, profile ?? base, packages));
    }
    issues.push(...narrativeIssues(resource, resource.resourceType));
    return unique(
      issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => prefixed({ ...i, expression: i.expression ?? [resource.resourceType] }, pathPrefix)),
    );
  };
  const check = (resource: Resource, profileUrl?: string, pathPrefix?: string) => checkAll(resource, profileUrl ? [profileUrl] : [], pathPrefix);

  const checkBundle = (bundle: Bundle, profileByType: Partial<Record<string, string>> = {}, bundleProfile?: string): OperationOutcomeIssue[] => {
    const issues = check(bundle, bundleProfile);
    (Array.isArray(bundle.entry) ? bundle.entry : []).forEach((entry: unknown, i) => {
      const resource = (entry as { resource?: unknown } | null)?.resource as Resource | undefined;
      const type = resource?.resourceType;
      const profileUrl = typeof type === 'string' && Object.hasOwn(profileByType, type) ? profileByType[type] : undefined;
      if (profileUrl) issues.push(...check(resource!, profileUrl, `Bundle.entry[${i}].resource`));
    });
    return unique(issues);
  };

  return {
    check,
    checkAll,
    validate(resource, profileUrl) {
      const issues = check(resource, profileUrl);
      if (issues.length) throw invalid(issues);
    },
    checkBundle,
    validateBundle(bundle, profileByType, bundleProfile) {
      const issues = checkBundle(bundle, profileByType, bundleProfile);
      if (issues.length) throw invalid(issues);
    },
    knows: (url) => Boolean(packages?.profiles.has(url) || authoredProfiles().has(url)),
    profileUrls: () => [...authoredProfiles().keys()],
  };
}
