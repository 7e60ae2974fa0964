import type { Fact } from '../../src/summaries/facts.js';
import { TOOL_NAME } from '../../src/summaries/prompt.js';
import type { ModelOutput } from '../../src/summaries/schema.js';
import { toolReply, type MessagesRequest, type Reply } from '../summaries/fake-anthropic.js';

export const MODEL = 'claude-test-model';

/** The facts the gateway sent, parsed back out of the user turn. */
export function factsIn(req: MessagesRequest): Fact[] {
  const text = req.messages[0]!.content as string;
  return JSON.parse(text.slice(text.indexOf('\n[') + 1)) as Fact[];
}

/** Texts a model would write, per language, for test/helpers/fixtures.ts visitSummaryBundle. */
const TEXTS = {
  en: {
    happened: 'You came in to have your blood pressure checked.',
    diagnosis: 'You have high blood pressure.',
    medicine: 'Keep taking lisinopril, one pill each day.',
    next: 'Come back in May for another blood pressure check.',
    care: 'Call your care team if you feel worse.',
  },
  es: {
    happened: 'Vino para que le revisaran la presión arterial.',
    diagnosis: 'Usted tiene la presión arterial alta.',
    medicine: 'Siga tomando lisinopril, una pastilla cada día.',
    next: 'Vuelva en mayo para otro control de la presión arterial.',
    care: 'Llame a su equipo de atención si se siente peor.',
  },
};

/** A well-behaved model: every statement cites the facts it restates, in the language asked (es or en). */
export function writeSummary(req: MessagesRequest): Reply {
  const facts = factsIn(req);
  // Record entries before Composition sections of the same kind.
  const ref = (kind: Fact['kind']) =>
    facts
      .filter((f) => f.kind === kind)
      .sort((a, b) => Number(a.title !== undefined) - Number(b.title !== undefined))
      .map((f) => f.ref);
  const t = /\(es[-)]/.test(String(req.messages[0]!.content)) ? TEXTS.es : TEXTS.en;
  const output: ModelOutput = {
    whatHappened: { text: t.happened, sources: [...ref('encounter'), ...ref('note')].slice(0, 2) },
    diagnoses: [{ text: t.diagnosis, sources: ref('diagnosis').slice(0, 1) }],
    medications: [{ text: t.medicine, sources: ref('medication').slice(0, 1) }],
    nextSteps: [{ text: t.next, sources: ref('appointment').slice(0, 1) }],
    whenToSeekCare: { text: t.care, sources: [] },
    educational: [],
    clinicalGuidance: [],
  };
  return toolReply(MODEL, TOOL_NAME, output);
}
