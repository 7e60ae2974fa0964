import { DomainError, failWith } from '../errors.js';
import { assembleChunks, parseQrText, QR_PREFIX, type QrPart } from './numeric-qr.js';

const badInput = failWith('ERR_SHC_INPUT');

/**
 * Wallets hand over a handful of cards; each one costs an inflate, a parse and a signature check,
 * so a body full of copies of one card is refused before any of that.
 */
export const MAX_CARDS_PER_INPUT = 50;

function assertCount(n: number, where: string): void {
  if (n > MAX_CARDS_PER_INPUT)
    throw new DomainError('ERR_SHC_TOO_MANY_CARDS', `${where} holds ${n} cards or QR codes; at most ${MAX_CARDS_PER_INPUT} are accepted at once`, { expression: [where] });
}

/** The `.smart-health-card` file form (MIME application/smart-health-card). */
export interface SmartHealthCardFile {
  verifiableCredential: readonly string[];
}

/**
 * What a wallet hands over: scanned QR texts (one per QR, chunks in any order; a bare JWS is
 * also taken in the list), a `.smart-health-card` file object, or one JWS.
 */
export type ShcInput = string | readonly string[] | SmartHealthCardFile;

// Whitespace around a pasted or scanned value is noise; anything else (a BOM, say) is left to fail.
function trimmed(value: unknown, where: string): string {
  if (typeof value !== 'string') throw badInput(`${where} must be a string`, [where]);
  const s = value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (!s) throw badInput(`${where} is empty`, [where]);
  return s;
}

/** The compact JWS of every card in the input, in the order given (a chunk set counts where its first chunk was). */
export function cardsFromInput(input: ShcInput): string[] {
  if (typeof input === 'string') return assemble([toPart(trimmed(input, 'shc'))]);
  if (Array.isArray(input)) {
    if (input.length === 0) throw badInput('shc holds no card', ['shc']);
    assertCount(input.length, 'shc');
    return assemble(input.map((v, i) => toPart(trimmed(v, `shc[${i}]`))));
  }
  if (typeof input === 'object' && input !== null && 'verifiableCredential' in input) {
    const vcs: unknown = input.verifiableCredential;
    if (!Array.isArray(vcs) || vcs.length === 0) throw badInput('verifiableCredential must be a non-empty array', ['verifiableCredential']);
    assertCount(vcs.length, 'verifiableCredential');
    return vcs.map((v, i) => trimmed(v, `verifiableCredential[${i}]`));
  }
  throw badInput('shc must be a list of QR texts, a .smart-health-card file object or a JWS', ['shc']);
}

function toPart(s: string): QrPart {
  return s.slice(0, QR_PREFIX.length).toLowerCase() === QR_PREFIX ? parseQrText(s) : { kind: 'whole', jws: s };
}

/** Whole cards stay as they are; all chunks together must form one complete set. */
function assemble(parts: QrPart[]): string[] {
  const chunks = parts.filter((p) => p.kind === 'chunk');
  const out: string[] = [];
  for (const p of parts) {
    if (p.kind === 'whole') out.push(p.jws);
    else if (p === chunks[0]) out.push(assembleChunks(chunks));
  }
  return out;
}
