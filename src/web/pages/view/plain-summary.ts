import { AI_ASSERTED, SUMMARY_SECTION_TITLES, type SummarySectionKey } from '../../../summaries/fhir-form-codes.js';
import { isObject, list, narrativeBlocks, str, type Json } from './fhir-read.js';

/** The gateway's plain-language summary (its FHIR form, a Composition) read back into statements with their citations. */

export interface PlainStatement {
  text: string;
  /** References of the record entries it came from. */
  sources: string[];
}

export interface PlainSummary {
  aiGenerated: boolean;
  language: string | undefined;
  sections: Partial<Record<SummarySectionKey, PlainStatement[]>>;
}

const KEY_BY_TITLE = new Map<string, SummarySectionKey>(Object.entries(SUMMARY_SECTION_TITLES).map(([key, title]) => [title, key as SummarySectionKey]));

const references = (section: Json) =>
  list(section.entry)
    .map((e) => str(e.reference))
    .filter((r): r is string => Boolean(r));
const texts = (section: Json) => narrativeBlocks(isObject(section.text) ? section.text.div : undefined).map((b) => b.text);

/** Whether a file of the link is the summary: a bare Composition with the summary's sections. */
export function isPlainSummary(resource: Json): boolean {
  return resource.resourceType === 'Composition' && list(resource.section).some((s) => s.title === SUMMARY_SECTION_TITLES.whatHappened);
}

export function readPlainSummary(composition: Json): PlainSummary {
  const security = list(isObject(composition.meta) ? composition.meta.security : undefined);
  const sections: PlainSummary['sections'] = {};
  for (const s of list(composition.section)) {
    const key = KEY_BY_TITLE.get(String(s.title));
    if (!key || key === 'about') continue;
    const parts = list(s.section);
    // One sub-section per statement with its own citations; an older form has only the section's.
    const statements = parts.length ? parts.flatMap((p) => texts(p).map((text) => ({ text, sources: references(p) }))) : texts(s).map((text) => ({ text, sources: references(s) }));
    const meaningful = statements.filter((st) => parts.length || st.text !== 'Nothing recorded.');
    if (meaningful.length) sections[key] = meaningful;
  }
  return {
    aiGenerated: security.some((c) => c.system === AI_ASSERTED.system && c.code === AI_ASSERTED.code),
    language: str(composition.language),
    sections,
  };
}
