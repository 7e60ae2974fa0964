import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import * as tar from 'tar';
import { PROFILE } from './profile-urls.js';

/** What the FHIR NPM packages in FHIR_PACKAGES_DIR provide to validation. */
export interface PackageContent {
  /** Profiles with snapshots, by canonical URL (constraints on resource types only). */
  profiles: Map<string, StructureDefinition>;
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
  /** `name#version` of each package loaded, for the log and the CapabilityStatement. */
  packages: string[];
}

export class FhirPackageError extends Error {}

/** A package file: `package/<name>.json` (examples live in `package/example/` and are skipped). */
const RESOURCE_FILE = /^package\/[^/]+\.json$/;

/**
 * Far above the published packages (hl7.fhir.r4.core inflates to tens of MB, its largest file to a
 * few), so a gzip bomb or a giant file fails the start instead of taking the gateway's memory.
 */
export const PACKAGE_LIMITS = { maxPackageBytes: 512 * 1024 * 1024, maxEntryBytes: 32 * 1024 * 1024 };

/**
 * The base specification's canonicals and the gateway's own: a package may add to them, never
 * redefine them (its profiles replace authored ones only through the published canonical they follow).
 */
const BASE_SPEC_CANONICAL = /^http:\/\/hl7\.org\/fhir\/(StructureDefinition|ValueSet|CodeSystem)\/[^/]+$/;
const OWN_CANONICALS = new Set<string>(Object.values(PROFILE));
const reserved = (url: string) => BASE_SPEC_CANONICAL.test(url) || OWN_CANONICALS.has(url);

function readPackage(file: string, limits: typeof PACKAGE_LIMITS): Map<string, string> {
  // Reading a FIFO or device would block the start for ever.
  if (!statSync(file).isFile()) throw new FhirPackageError(`${file} is not a regular file`);
  let archive: Buffer;
  try {
    archive = gunzipSync(readFileSync(file), { maxOutputLength: limits.maxPackageBytes });
  } catch (e) {
    if (e instanceof RangeError) throw new FhirPackageError(`${file} inflates to more than ${limits.maxPackageBytes} bytes`);
    throw e;
  }
  const files = new Map<string, string>();
  let tooLarge: string | undefined;
  new tar.Parser({
    strict: true,
    onReadEntry(entry) {
      if (entry.type !== 'File' || !RESOURCE_FILE.test(entry.path)) return entry.resume();
      if ((entry.size ?? 0) > limits.maxEntryBytes) {
        tooLarge ??= entry.path;
        return entry.resume();
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.set(entry.path, Buffer.concat(chunks).toString('utf8')));
    },
  }).end(archive);
  if (tooLarge) throw new FhirPackageError(`${file}: ${tooLarge} is larger than ${limits.maxEntryBytes} bytes`);
  return files;
}

function parse(file: string, name: string, text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FhirPackageError(`${file}: ${name} is not valid JSON`);
  }
}

/**
 * Loads every `.tgz` in `dir` (FHIR NPM packages as the FHIR package registry publishes them):
 * their resource StructureDefinitions that carry a snapshot, their ValueSets and CodeSystems.
 * A profile without a snapshot cannot be validated against here and fails the start.
 */
export function loadFhirPackages(dir: string, limits = PACKAGE_LIMITS): PackageContent {
  const out: PackageContent = { profiles: new Map(), valueSets: new Map(), codeSystems: new Map(), packages: [] };
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.tgz'))
      .sort();
  } catch (e) {
    throw new FhirPackageError(`FHIR_PACKAGES_DIR ${dir} cannot be read: ${(e as Error).message}`);
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let files: Map<string, string>;
    try {
      files = readPackage(file, limits);
    } catch (e) {
      if (e instanceof FhirPackageError) throw e;
      throw new FhirPackageError(`${file} is not a readable .tgz package: ${(e as Error).message}`);
    }
    const manifest = files.get('package/package.json');
    if (!manifest) throw new FhirPackageError(`${file} has no package/package.json`);
    const { name: id, version } = parse(file, 'package.json', manifest) as { name?: string; version?: string };
    out.packages.push(`${id ?? name}#${version ?? '?'}`);
    for (const [entry, text] of files) {
      if (entry === 'package/package.json' || entry.endsWith('.index.json')) continue;
      const r = parse(file, entry, text);
      if (typeof r.url !== 'string' || reserved(r.url)) continue;
      if (r.resourceType === 'ValueSet') out.valueSets.set(r.url, r as unknown as ValueSet);
      if (r.resourceType === 'CodeSystem') out.codeSystems.set(r.url, r as unknown as CodeSystem);
      if (r.resourceType !== 'StructureDefinition') continue;
      const sd = r as unknown as StructureDefinition;
      if (sd.kind !== 'resource' || sd.derivation !== 'constraint') continue;
      if (!sd.snapshot?.element?.length) throw new FhirPackageError(`${file}: ${entry} (${sd.url}) has no snapshot`);
      out.profiles.set(sd.url!, sd);
    }
  }
  return out;
}
