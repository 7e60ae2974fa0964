import { el } from '../dom.js';
import type { I18n } from '../i18n/catalogue.js';
import type { Anchors } from './anchors.js';
import { formatDate } from './format.js';
import type { Note, VisitRecord } from './read-visit.js';

/**
 * The record part of the page: the visit's facts, then diagnoses, medicines, instructions, the
 * next appointment and the notes, as h3 parts under one h2. Every entry a plain sentence may cite
 * gets an id from `anchors`.
 */

function fact(name: string, value: string | undefined) {
  return value ? el('div', {}, el('dt', {}, name), el('dd', {}, value)) : undefined;
}

function renderBlocks(blocks: Note['blocks']): HTMLElement[] {
  const out: HTMLElement[] = [];
  let bullets: HTMLUListElement | undefined;
  for (const b of blocks) {
    if (b.item) {
      if (!bullets) {
        bullets = el('ul');
        out.push(bullets);
      }
      bullets.append(el('li', {}, b.text));
    } else {
      bullets = undefined;
      out.push(el('p', {}, b.text));
    }
  }
  return out;
}

const notesOf = (notes: Note[]) => notes.flatMap((n) => [n.title ? el('h4', {}, n.title) : undefined, ...renderBlocks(n.blocks)]);

function part(title: string, id: string | undefined, ...content: (Node | undefined)[]): HTMLElement | undefined {
  const shown = content.filter((c): c is Node => Boolean(c));
  return shown.length ? el('section', { className: 'part', ...(id ? { id } : {}) }, el('h3', {}, title), ...shown) : undefined;
}

const bulletList = (items: HTMLLIElement[]) => (items.length ? el('ul', {}, ...items) : undefined);

export function renderRecord(v: VisitRecord, i18n: I18n, anchors: Anchors): HTMLElement {
  const r = i18n.m.view.record;
  const factsId = anchors.register(v.encounter, v.visitType[0] ?? r.visit);
  const facts = [
    fact(r.date, formatDate(v.date, i18n, false)),
    fact(r.where, v.place),
    fact(r.seenBy, v.seenBy.join(', ')),
    fact(r.from, v.from.filter((n) => n !== v.place && !v.seenBy.includes(n)).join(', ')),
    fact(r.visitType, v.visitType.join(', ')),
    fact(r.reason, v.reasons.join(', ')),
  ].filter((f): f is HTMLDivElement => Boolean(f));

  const diagnoses = v.diagnoses.map((d) => {
    const name = d.name ?? r.aHealthProblem;
    return el('li', { id: anchors.register(d.resource, name) }, name, d.resolved ? el('span', { className: 'detail' }, r.resolved) : undefined);
  });
  const medicines = v.medicines.map((m) => {
    const name = m.name ?? r.aMedicine;
    return el(
      'li',
      { id: anchors.register(m.resource, name) },
      name,
      ...m.dosage.map((d) => el('span', { className: 'detail' }, d)),
      m.stopped ? el('span', { className: 'detail' }, r.stopped) : undefined,
    );
  });
  const plans = v.plans.flatMap((p) => {
    const id = anchors.register(p.resource, p.title ?? r.instructions);
    return [
      p.title ? el('h4', { id }, p.title) : undefined,
      p.description ? el('p', p.title ? {} : { id }, p.description) : undefined,
      bulletList(p.activities.map((a) => el('li', {}, a))),
    ];
  });
  const appointments = v.appointments.map((a, i) => {
    const when = formatDate(a.start, i18n);
    const text = [when, a.what, a.with.length ? r.withWhom(a.with.join(', ')) : ''].filter(Boolean).join(' — ');
    return el(
      'p',
      { className: 'note', id: anchors.register(a.resource, a.what ?? when ?? r.appointments) },
      i > 0 ? el('span', { className: 'fact-name' }, `${r.laterAppointment}: `) : undefined,
      text,
    );
  });
  const notesId = anchors.register(v.composition, r.notes);

  const section = el(
    'section',
    { className: 'record' },
    el('h2', { id: 'record-title' }, r.title),
    v.title ? el('p', { className: 'doc-title' }, v.title) : undefined,
    facts.length ? el('dl', { className: 'facts', id: factsId }, ...facts) : undefined,
    part(r.diagnoses, undefined, bulletList(diagnoses), ...notesOf(v.notes.diagnoses)),
    part(r.medicines, undefined, bulletList(medicines), ...notesOf(v.notes.medicines)),
    part(r.instructions, undefined, ...notesOf(v.notes.next), ...plans),
    part(r.appointments, undefined, ...appointments),
    part(r.notes, notesId, ...notesOf(v.notes.happened)),
  );
  section.setAttribute('aria-labelledby', 'record-title');
  return section;
}
