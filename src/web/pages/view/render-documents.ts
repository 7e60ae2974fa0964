import { el } from '../dom.js';
import type { I18n } from '../i18n/catalogue.js';
import { MAX_ATTACHMENT_BYTES, OPENS_HERE, type VisitDocument } from './attachments.js';
import { formatSize } from './format.js';

/** The documents list: title, type and size, with Open (PDF, JPEG, PNG) and Download links to blob: URLs. */

let liveUrls = new Map<Uint8Array, Map<string, string>>();

/**
 * One blob: URL per document bytes and type: attachments sharing one Binary share its blob (a Blob
 * copies its bytes). Blob URLs of the previous rendering are released (a language switch renders again).
 */
function blobUrl(doc: VisitDocument & { bytes: Uint8Array<ArrayBuffer> }): string {
  const byType = liveUrls.get(doc.bytes) ?? new Map<string, string>();
  liveUrls.set(doc.bytes, byType);
  const url = byType.get(doc.contentType) ?? URL.createObjectURL(new Blob([doc.bytes], { type: doc.contentType }));
  byType.set(doc.contentType, url);
  return url;
}

function item(doc: VisitDocument, i18n: I18n): HTMLLIElement {
  const a = i18n.m.view.attachments;
  const title = doc.title ?? a.untitled;
  const about = [a.types[doc.kind], doc.bytes ? formatSize(doc.bytes.length, i18n) : undefined].filter(Boolean).join(', ');
  const head = [el('span', { className: 'doc-name' }, title), el('span', { className: 'detail' }, about)];
  const { bytes } = doc;
  if (!bytes) return el('li', {}, ...head, el('span', { className: 'detail' }, doc.tooLarge ? a.tooLarge(formatSize(MAX_ATTACHMENT_BYTES, i18n)) : a.notAvailable));
  if (doc.kind === 'other') return el('li', {}, ...head, el('span', { className: 'detail' }, a.unsupported));
  const url = blobUrl({ ...doc, bytes });
  const actions = el(
    'span',
    { className: 'doc-actions' },
    OPENS_HERE.has(doc.kind) ? el('a', { href: url, target: '_blank', rel: 'noopener', className: 'button' }, a.open(title)) : undefined,
    el('a', { href: url, download: doc.fileName, className: 'button secondary' }, a.download(title)),
  );
  return el('li', {}, ...head, actions);
}

export function renderDocuments(docs: VisitDocument[], i18n: I18n): HTMLElement | undefined {
  for (const byType of liveUrls.values()) for (const u of byType.values()) URL.revokeObjectURL(u);
  liveUrls = new Map();
  if (!docs.length) return undefined;
  const a = i18n.m.view.attachments;
  const section = el(
    'section',
    { className: 'documents' },
    el('h2', { id: 'documents-title' }, a.title),
    el('ul', { className: 'doc-list' }, ...docs.map((d) => item(d, i18n))),
    el('p', { className: 'help' }, a.limits(formatSize(MAX_ATTACHMENT_BYTES, i18n))),
  );
  section.setAttribute('aria-labelledby', 'documents-title');
  return section;
}
