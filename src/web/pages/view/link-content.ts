import { FHIR_TYPE, SHC_TYPE } from '../../../shl/constants.js';
import { ViewerError } from './errors.js';
import { isObject, list, ResourceIndex, type Json } from './fhir-read.js';
import { isPlainSummary } from './plain-summary.js';
import { cardPayload, type PlainFile } from './shl-client.js';

/** The decrypted files of a link sorted into what the page shows. */
export interface LinkContent {
  /** Visit documents (Bundles): from the FHIR files, else from the cards' payloads. */
  documents: Json[];
  /** The gateway's plain-language summaries (Compositions). */
  summaries: Json[];
  cards: number;
  /** Files of a type this page does not show. */
  other: number;
  /** Every resource of the link, for references (and attachments) across files. */
  resources: Json[];
  index: ResourceIndex;
}

/** Older hosts send neither `cty` nor a manifest content type (U-flag links); the JSON itself tells. */
function sniffType(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as unknown;
    if (isObject(json) && Array.isArray(json.verifiableCredential)) return SHC_TYPE;
    if (isObject(json) && typeof json.resourceType === 'string') return FHIR_TYPE;
  } catch {
    // Not JSON: a type this page does not show.
  }
  return undefined;
}

async function cardBundles(text: string): Promise<{ count: number; bundles: Json[] }> {
  let vcs: unknown[] = [];
  try {
    const parsed = JSON.parse(text) as { verifiableCredential?: unknown };
    vcs = Array.isArray(parsed.verifiableCredential) ? parsed.verifiableCredential : [];
  } catch {
    return { count: 0, bundles: [] }; // A damaged card is left out; the rest still shows.
  }
  const bundles: Json[] = [];
  for (const jws of vcs) {
    if (typeof jws !== 'string') continue;
    const payload = await cardPayload(jws).catch(() => undefined);
    const bundle = isObject(payload) && isObject(payload.vc) && isObject(payload.vc.credentialSubject) ? payload.vc.credentialSubject.fhirBundle : undefined;
    if (isObject(bundle) && bundle.resourceType === 'Bundle') bundles.push(bundle);
  }
  return { count: vcs.length, bundles };
}

export async function sortFiles(files: PlainFile[]): Promise<LinkContent> {
  const content: LinkContent = { documents: [], summaries: [], cards: 0, other: 0, resources: [], index: new ResourceIndex() };
  const fromCards: Json[] = [];
  const bare: Json[] = [];
  for (const f of files) {
    const type = (f.contentType ?? sniffType(f.text) ?? '').split(';')[0]!.trim();
    if (type === FHIR_TYPE) {
      let resource: unknown;
      try {
        resource = JSON.parse(f.text);
      } catch {
        throw new ViewerError('unreadableSummary');
      }
      if (!isObject(resource) || typeof resource.resourceType !== 'string') continue;
      if (resource.resourceType === 'Bundle') content.documents.push(resource);
      else if (isPlainSummary(resource)) content.summaries.push(resource);
      else bare.push(resource);
    } else if (type === SHC_TYPE) {
      const cards = await cardBundles(f.text);
      content.cards += cards.count;
      fromCards.push(...cards.bundles);
    } else {
      content.other += 1;
    }
  }
  // The card holds the same document; it is shown only when the link has no FHIR copy of it.
  if (!content.documents.length) content.documents.push(...fromCards);
  for (const d of content.documents) {
    content.index.addAll(d);
    content.resources.push(
      ...list(d.entry)
        .map((e) => e.resource)
        .filter(isObject),
    );
  }
  for (const r of bare) {
    content.index.add(r);
    content.resources.push(r);
  }
  return content;
}
