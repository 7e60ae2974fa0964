import type { Fact, VisitFacts } from './facts.js';
import type { RedFlagHit } from './red-flags.js';
import { DEFAULT_SEEK_CARE, emergencyAdvice } from './safety.js';
import type { ModelOutput, Statement } from './schema.js';

/**
 * The summary without a model: the record's own words (code displays, dosage instructions, section
 * narratives, follow-ups), put in the same shape, each line citing its entry. It adds no general
 * information, so `educational` stays empty, and everything it says is the care team's, so it is
 * all in the summary itself rather than in `clinicalGuidance`.
 */

const ENDED = new Set(['stopped', 'cancelled', 'completed', 'entered-in-error', 'inactive', 'resolved', 'remission']);

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function line(f: Fact, text: string): Statement {
  return { text: sentence(text), sources: [f.ref] };
}

function section(f: Fact): Statement {
  return line(f, `${f.title}: ${f.text}`);
}

const fromRecord = (f: Fact) => f.title === undefined;

function visitLine(f: Fact): string {
  const reasons = (f.details ?? []).filter((d) => d.startsWith('reason: ')).map((d) => d.slice('reason: '.length));
  return [`Visit: ${f.text}${f.when ? `, ${f.when}` : ''}`, reasons.length ? `Reason: ${reasons.join(', ')}` : ''].filter(Boolean).map(sentence).join(' ');
}

function doneLine(f: Fact): string {
  const label = f.kind === 'procedure' ? 'Procedure' : f.kind === 'immunization' ? 'Vaccine' : 'Result';
  return sentence([`${label}: ${f.text}`, ...(f.details ?? [])].join(', '));
}

function diagnosisLine(f: Fact): Statement {
  return line(f, f.status && ENDED.has(f.status) ? `${f.text} (${f.status})` : f.text);
}

function medicationLine(f: Fact): Statement {
  const how = f.instructions?.join('; ');
  const status = f.status && ENDED.has(f.status) ? ` (${f.status})` : '';
  return line(f, `${f.text}${status}${how ? `: ${how}` : ''}`);
}

function followUpLine(f: Fact): Statement {
  const label = f.kind === 'appointment' ? 'Appointment' : f.kind === 'order' ? 'Ordered' : f.kind === 'goal' ? 'Goal' : 'Plan';
  const parts = [`${label}: ${f.text}${f.when ? `, ${f.when}` : ''}`, ...(f.instructions ?? [])];
  return line(f, parts.map(sentence).join(' '));
}

export function fallbackOutput({ facts }: VisitFacts, redFlags: RedFlagHit[]): ModelOutput {
  const of = (kind: Fact['kind']) => facts.filter((f) => f.kind === kind);
  const encounters = of('encounter');
  const notes = of('note');
  const done = facts.filter((f) => ['procedure', 'result', 'immunization'].includes(f.kind));
  const happened = [...encounters.map(visitLine), ...notes.map((n) => sentence(`${n.title}: ${n.text}`)), ...done.map(doneLine)];

  const conditions = of('diagnosis').filter(fromRecord);
  const medicines = of('medication').filter(fromRecord);
  return {
    whatHappened: {
      text: happened.length ? happened.join(' ') : 'Your visit record does not describe the visit.',
      sources: [...new Set([...encounters, ...notes, ...done].map((f) => f.ref))],
    },
    diagnoses: conditions.length ? conditions.map(diagnosisLine) : of('diagnosis').map(section),
    medications: medicines.length ? medicines.map(medicationLine) : of('medication').map(section),
    nextSteps: [...of('instructions').map(section), ...facts.filter((f) => ['plan', 'appointment', 'order', 'goal'].includes(f.kind)).map(followUpLine)],
    whenToSeekCare: redFlags.length ? emergencyAdvice(redFlags) : DEFAULT_SEEK_CARE,
    educational: [],
    clinicalGuidance: [],
  };
}
