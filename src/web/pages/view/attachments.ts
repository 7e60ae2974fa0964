import { base64urlBytes } from './shl-client.js';
import { conceptText, isObject, list, str, type Json, type ResourceIndex } from './fhir-read.js';

/**
 * Documents attached to the visit (DocumentReference, Media, Binary): their bytes come inline
 * (`data`) or from a Binary elsewhere in the link that `url` names (`Binary/id`, a fullUrl, or a
 * URL ending in `Binary/id`); they are already decrypted here and are opened from blob: URLs.
 */

/** What one phone page should hold in memory per document (a file of the link is 16 MB at most, base64 adds a third). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export type DocumentKind = 'pdf' | 'jpeg' | 'png' | 'tiff' | 'other';
const KIND_BY_TYPE: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/png': 'png',
  'image/tiff': 'tiff',
  'image/tif': 'tiff',
};
const EXTENSION: Record<DocumentKind, string> = { pdf: '.pdf', jpeg: '.jpg', png: '.png', tiff: '.tiff', other: '' };
/** What a browser shows by itself; TIFF only downloads. */
export const OPENS_HERE = new Set<DocumentKind>(['pdf', 'jpeg', 'png']);

export interface VisitDocument {
  title: string | undefined;
  kind: DocumentKind;
  contentType: string;
  fileName: string;
  /** Undefined when the bytes are not in the link, or are too large. */
  bytes: Uint8Array<ArrayBuffer> | undefined;
  tooLarge: boolean;
}

function decodeBase64(data: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return base64urlBytes(data.replace(/\s+/g, '').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    return undefined;
  }
}

/**
 * Bytes by their base64 text: attachments naming one Binary share its decoded bytes, so a file of
 * the link is decoded once however many attachments point at it (not once per attachment).
 */
type Decoded = Map<string, Uint8Array<ArrayBuffer> | undefined>;

function decodeOnce(data: string, decoded: Decoded): Uint8Array<ArrayBuffer> | undefined {
  if (!decoded.has(data)) decoded.set(data, decodeBase64(data));
  return decoded.get(data);
}

function fromAttachment(att: Json, title: string | undefined, index: ResourceIndex, decoded: Decoded): VisitDocument {
  const binary = att.data === undefined ? index.byUrl(att.url) : undefined;
  const data = str(att.data) ?? (binary?.resourceType === 'Binary' ? str(binary.data) : undefined);
  const contentType = (str(att.contentType) ?? str(binary?.contentType) ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();
  const kind = KIND_BY_TYPE[contentType] ?? 'other';
  // base64 length * 3/4 is the size before decoding: refuse before allocating.
  const tooLarge = data !== undefined && data.length * 0.75 > MAX_ATTACHMENT_BYTES + 2;
  const name =
    (title ?? 'document')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: C0 controls are not allowed in a download file name
      .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ')
      .trim()
      .slice(0, 80) || 'document';
  return {
    title,
    kind,
    contentType,
    fileName: name.toLowerCase().endsWith(EXTENSION[kind]) ? name : `${name}${EXTENSION[kind]}`,
    bytes: data && !tooLarge ? decodeOnce(data, decoded) : undefined,
    tooLarge,
  };
}

/** Every document of the link's resources, each once (a Binary another resource points at is listed there). */
export function findDocuments(resources: Json[], index: ResourceIndex): VisitDocument[] {
  const docs: VisitDocument[] = [];
  const pointedAt = new Set<Json>();
  const decoded: Decoded = new Map();
  for (const r of resources) {
    const attachments =
      r.resourceType === 'DocumentReference'
        ? list(r.content)
            .map((c) => c.attachment)
            .filter(isObject)
        : r.resourceType === 'Media' && isObject(r.content)
          ? [r.content]
          : [];
    for (const att of attachments) {
      const target = index.byUrl(att.url);
      if (target) pointedAt.add(target);
      const title = str(att.title) ?? str(r.description) ?? conceptText(r.type);
      docs.push(fromAttachment(att, title, index, decoded));
    }
  }
  for (const r of resources) {
    if (r.resourceType === 'Binary' && !pointedAt.has(r) && typeof r.data === 'string')
      docs.push(fromAttachment({ contentType: r.contentType, data: r.data }, undefined, index, decoded));
  }
  return docs;
}
