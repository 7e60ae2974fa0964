import type { Bundle, Resource } from '@medplum/fhirtypes';
import { AUTHORED_FOR_OFFICIAL, OFFICIAL, PROFILE, canonicalWithoutVersion } from './profile-urls.js';

/**
 * Which profiles a resource is held to. Always the base spec (the validator's job); beyond it,
 * every profile the resource claims in `meta.profile` that the gateway knows, either directly (an
 * authored profile's own URL, or a profile loaded from a FHIR package) or through the published
 * canonical an authored profile follows. Claims the gateway does not know are returned so the
 * caller can warn about them: never silently accepted as if checked, never a reason to refuse.
 * A resource that claims nothing known gets the defaults of the document it came in (IPS) or
 * nothing beyond the base spec.
 */

/** Where the resource was found: an IPS document holds its entries to IPS unless they claim otherwise. */
export type ProfileContext = 'fhir' | 'ips' | 'shc';

const DEFAULTS: Record<ProfileContext, Partial<Record<string, string>>> = {
  fhir: {},
  shc: {},
  ips: {
    Patient: PROFILE.ipsPatient,
    AllergyIntolerance: PROFILE.ipsAllergyIntolerance,
    Condition: PROFILE.ipsCondition,
    MedicationStatement: PROFILE.ipsMedicationStatement,
  },
};

export interface ProfileSelection {
  /** Profile URLs to validate against (besides the base spec), each once. */
  profiles: string[];
  /** Claimed canonicals the gateway does not know (as claimed, version included). */
  unknown: string[];
}

/** `meta.profile` as claimed, ignoring anything that is not a string (the base spec reports that). */
export function claimedProfiles(resource: Resource): string[] {
  const claimed = (resource as { meta?: { profile?: unknown } }).meta?.profile;
  return Array.isArray(claimed) ? claimed.filter((p): p is string => typeof p === 'string') : [];
}

export function selectProfiles(resource: Resource, context: ProfileContext, knows: (url: string) => boolean, required: readonly string[] = []): ProfileSelection {
  const profiles = new Set<string>();
  const unknown: string[] = [];
  let claimsKnown = false;
  for (const claim of claimedProfiles(resource)) {
    const url = canonicalWithoutVersion(claim);
    if (knows(url)) {
      profiles.add(url);
      claimsKnown = true;
    } else if (Object.hasOwn(AUTHORED_FOR_OFFICIAL, url)) {
      const authored = AUTHORED_FOR_OFFICIAL[url];
      if (authored) profiles.add(authored);
      claimsKnown = true;
    } else unknown.push(claim);
  }
  const fallback = claimsKnown ? undefined : DEFAULTS[context][resource.resourceType];
  if (fallback) profiles.add(fallback);
  for (const url of required) profiles.add(url);
  return { profiles: [...profiles], unknown };
}

const IPS_BUNDLE_CLAIMS = new Set<string>([OFFICIAL.ipsBundle, PROFILE.ipsBundle]);

/**
 * An International Patient Summary: a `document` Bundle that claims the IPS Bundle profile, or
 * whose Composition is a Patient summary (LOINC 60591-5).
 */
export function isIpsDocument(bundle: Bundle): boolean {
  if (bundle.type !== 'document') return false;
  if (claimedProfiles(bundle).some((p) => IPS_BUNDLE_CLAIMS.has(canonicalWithoutVersion(p)))) return true;
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const composition = entries.find((e) => e?.resource?.resourceType === 'Composition')?.resource as { type?: { coding?: { system?: string; code?: string }[] } } | undefined;
  const codings = Array.isArray(composition?.type?.coding) ? composition.type.coding : [];
  return codings.some((c) => c?.system === 'http://loinc.org' && c.code === '60591-5');
}
