import { failWith } from '../errors.js';

const badQr = failWith('ERR_SHC_QR');

/** The `shc:` URI prefix of every SMART Health Card QR (IANA-registered scheme). */
export const QR_PREFIX = 'shc:/';
/** Longest JWS one version-22 QR holds at error correction L (spec §Chunking). */
export const SINGLE_QR_MAX_JWS = 1195;

// Numeric mode carries each JWS character as two digits: its char code minus 45 ('-'), so '-' is
// 00 and 'z', the highest character a compact JWS can contain, is 77.
const OFFSET = 45;
const HIGHEST_PAIR = 77;

/** One scanned QR: a whole card, or one chunk of a card split across several QRs (deprecated, still accepted). */
export type QrPart = { kind: 'whole'; jws: string } | { kind: 'chunk'; index: number; total: number; jws: string };

export function jwsToNumeric(jws: string): string {
  let digits = '';
  for (let i = 0; i < jws.length; i++) {
    const n = jws.charCodeAt(i) - OFFSET;
    if (n < 0 || n > HIGHEST_PAIR) throw badQr('The JWS has a character a SMART Health Card QR cannot carry');
    digits += n < 10 ? `0${n}` : String(n);
  }
  return digits;
}

export function numericToJws(digits: string): string {
  if (!/^\d+$/.test(digits)) throw badQr('A SMART Health Card QR carries digits only after its prefix');
  if (digits.length % 2 !== 0) throw badQr('A SMART Health Card QR has an odd number of digits');
  const chars: string[] = [];
  for (let i = 0; i < digits.length; i += 2) {
    const n = (digits.charCodeAt(i) - 48) * 10 + (digits.charCodeAt(i + 1) - 48);
    if (n > HIGHEST_PAIR) throw badQr(`A SMART Health Card QR has a digit pair above ${HIGHEST_PAIR} (at digit ${i + 1})`);
    chars.push(String.fromCharCode(n + OFFSET));
  }
  return chars.join('');
}

/** `shc:/<digits>` for a whole card. */
export function encodeNumericQr(jws: string): string {
  return `${QR_PREFIX}${jwsToNumeric(jws)}`;
}

/** Reads `shc:/<digits>` or `shc:/<i>/<n>/<digits>`. */
export function parseQrText(text: string): QrPart {
  // The scheme is case-insensitive (RFC 3986), and some scanners upper-case it.
  if (text.slice(0, QR_PREFIX.length).toLowerCase() !== QR_PREFIX) throw badQr(`A SMART Health Card QR starts with ${QR_PREFIX}`);
  const rest = text.slice(QR_PREFIX.length);
  const chunk = /^(\d{1,3})\/(\d{1,3})\/(.*)$/s.exec(rest);
  if (!chunk) return { kind: 'whole', jws: numericToJws(rest) };
  const index = Number(chunk[1]);
  const total = Number(chunk[2]);
  if (total < 1 || index < 1 || index > total) throw badQr(`A SMART Health Card QR chunk is numbered ${index} of ${total}`);
  return { kind: 'chunk', index, total, jws: numericToJws(chunk[3] ?? '') };
}

/** Joins chunks scanned in any order, only when every index 1..n is there exactly once and all agree on n. */
export function assembleChunks(chunks: readonly Extract<QrPart, { kind: 'chunk' }>[]): string {
  const total = chunks[0]?.total;
  if (total === undefined) throw badQr('No SMART Health Card QR chunks were given');
  if (chunks.some((c) => c.total !== total)) throw badQr('The SMART Health Card QR chunks disagree on how many chunks there are');
  const byIndex = new Map<number, string>();
  for (const c of chunks) {
    if (byIndex.has(c.index)) throw badQr(`SMART Health Card QR chunk ${c.index} of ${total} was given twice`);
    byIndex.set(c.index, c.jws);
  }
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) throw badQr(`SMART Health Card QR chunk ${missing.join(', ')} of ${total} is missing`);
  return Array.from({ length: total }, (_, i) => byIndex.get(i + 1) as string).join('');
}
