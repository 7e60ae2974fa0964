import type { I18n } from '../i18n/catalogue.js';

/** A FHIR date or dateTime in the page's language; a date without a time is a calendar day, not midnight UTC. */
export function formatDate(value: string | undefined, i18n: I18n, withTime = true): string | undefined {
  if (typeof value !== 'string') return undefined;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) return i18n.date(new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])), { dateStyle: 'full' });
  if (/^\d{4}(-\d{2})?$/.test(value)) return value;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return undefined;
  return i18n.date(d, withTime ? { dateStyle: 'full', timeStyle: 'short' } : { dateStyle: 'full' });
}

/** Bytes as kB or MB, in the page's language. */
export function formatSize(bytes: number, i18n: I18n): string {
  const mb = bytes >= 1024 * 1024;
  return i18n.number(mb ? bytes / (1024 * 1024) : Math.max(1, Math.round(bytes / 1024)), { style: 'unit', unit: mb ? 'megabyte' : 'kilobyte', maximumFractionDigits: 1 });
}
