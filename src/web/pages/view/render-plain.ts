import type { SummarySectionKey } from '../../../summaries/fhir-form-codes.js';
import { el } from '../dom.js';
import type { I18n } from '../i18n/catalogue.js';
import type { Anchors } from './anchors.js';
import type { PlainStatement, PlainSummary } from './plain-summary.js';

/**
 * "In plain words": the label (AI or not), the disclaimer and when to get care first, then the
 * summary's parts. Each sentence links to the record entries it came from (shown further down).
 * The label and disclaimer are the page's fixed text in the page's language; the sentences are in
 * the summary's own language, each marked with `lang` when it differs from the page's.
 */

const ORDER: Exclude<SummarySectionKey, 'about' | 'whenToSeekCare'>[] = ['whatHappened', 'diagnoses', 'medications', 'nextSteps', 'clinicalGuidance', 'educational'];

/**
 * A link to the cited entry. Following it moves focus there without touching the address, whose
 * fragment is the health link itself.
 */
function citeLink(target: { id: string; name: string }): HTMLAnchorElement {
  const a = el('a', { href: `#${target.id}`, className: 'cite' }, target.name);
  a.addEventListener('click', (event) => {
    event.preventDefault();
    const entry = document.getElementById(target.id);
    if (!entry) return;
    for (const n of document.querySelectorAll('.cited')) n.classList.remove('cited');
    entry.classList.add('cited');
    entry.tabIndex = -1;
    entry.scrollIntoView({ block: 'center' });
    entry.focus({ preventScroll: true });
  });
  return a;
}

function citations(sources: string[], anchors: Anchors, shown: (id: string) => boolean, i18n: I18n): HTMLElement | undefined {
  const targets = sources.map((ref) => anchors.find(ref)).filter((a): a is { id: string; name: string } => Boolean(a && shown(a.id)));
  const unique = targets.filter((t, i) => targets.findIndex((u) => u.id === t.id) === i);
  if (!unique.length) return undefined;
  const links = unique.flatMap((t, i) => [i ? ', ' : '', citeLink(t)]);
  return el('span', { className: 'sources' }, `${i18n.m.view.plain.citedFrom} `, ...links);
}

function statements(list: PlainStatement[], anchors: Anchors, shown: (id: string) => boolean, i18n: I18n, lang: string | undefined): HTMLElement {
  const items = list.map((s) => el('li', {}, el('span', lang ? { lang } : {}, s.text), citations(s.sources, anchors, shown, i18n)));
  return items.length === 1 ? el('div', { className: 'statement' }, ...items[0]!.childNodes) : el('ul', { className: 'statements' }, ...items);
}

export function renderPlain(summary: PlainSummary, i18n: I18n, anchors: Anchors, shown: (id: string) => boolean): HTMLElement {
  const p = i18n.m.view.plain;
  const heading = (key: Exclude<SummarySectionKey, 'about'>) => el('h3', {}, p[key]);
  const body = el('div', { className: 'plain-body' });
  // The sentences are in the summary's language; the page's own words around them are not.
  const lang = summary.language && summary.language.split('-')[0] !== i18n.lang ? summary.language : undefined;
  const care = summary.sections.whenToSeekCare;
  if (care) body.append(el('section', { className: 'care' }, heading('whenToSeekCare'), statements(care, anchors, shown, i18n, lang)));
  for (const key of ORDER) {
    const list = summary.sections[key];
    if (list?.length) body.append(el('section', {}, heading(key), statements(list, anchors, shown, i18n, lang)));
  }
  const section = el(
    'section',
    { className: 'plain' },
    el('h2', { id: 'plain-title' }, p.title),
    el('p', { className: `ai-label ${summary.aiGenerated ? 'is-ai' : 'not-ai'}` }, summary.aiGenerated ? p.aiLabel : p.notAiLabel),
    el('p', { className: 'disclaimer' }, summary.aiGenerated ? p.aiDisclaimer : p.fallbackDisclaimer),
    body,
  );
  section.setAttribute('aria-labelledby', 'plain-title');
  return section;
}
