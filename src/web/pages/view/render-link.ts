import { el } from '../dom.js';
import type { I18n } from '../i18n/catalogue.js';
import { Anchors } from './anchors.js';
import { findDocuments } from './attachments.js';
import { ViewerError } from './errors.js';
import type { LinkContent } from './link-content.js';
import { readPlainSummary } from './plain-summary.js';
import { readVisit } from './read-visit.js';
import { renderDocuments } from './render-documents.js';
import { renderPlain } from './render-plain.js';
import { renderRecord } from './render-record.js';

/** The whole summary in the page's language: plain words first, then the record, the documents and what else the link holds. */
export function renderLink(content: LinkContent, i18n: I18n): HTMLElement[] {
  const c = i18n.m.view.card;
  const anchors = new Anchors(content.index);
  const records = content.documents
    .map((d) => renderRecord(readVisit(d, content.index), i18n, anchors))
    // A record with nothing to show but its heading (a card of another kind) is left out.
    .filter((r) => r.children.length > 1);
  const shown = (id: string) => records.some((r) => r.querySelector(`#${CSS.escape(id)}`) !== null);
  const plain = content.summaries.map((s) => renderPlain(readPlainSummary(s), i18n, anchors, shown));
  const documents = renderDocuments(findDocuments(content.resources, content.index), i18n);
  const notes: HTMLElement[] = [];
  if (content.other) notes.push(el('p', { className: 'note' }, c.otherKind));
  if (content.cards) notes.push(el('p', { className: 'note' }, el('span', { className: 'fact-name' }, `${c.included} `), c.explain(content.cards)));
  const nodes = [...plain, ...records, ...(documents ? [documents] : []), ...notes];
  if (!nodes.length) throw new ViewerError('nothingToShow');
  if (content.cards && nodes.length === notes.length) nodes.push(el('p', {}, c.openInWallet));
  return nodes;
}
