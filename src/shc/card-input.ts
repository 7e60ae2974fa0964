import { failWith } from '../errors.js';

const badInput = failWith('ERR_SHC_INPUT');
import { assembleChunks, parseQrText, QR_PREFIX, type QrPart } from './numeric-qr.js';

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
    return assemble(input.map((v, i) => toPart(trimmed(v, `shc[${i}]`))));
  }
  if (typeof input === 'object' && input !== null && 'verifiableCredential' in input) {
    const vcs: unknown = input.verifiableCredential;
    if (!Array.isArray(vcs) || vcs.length === 0) throw badInput('verifiableCredential must be a non-empty array', ['verifiableCredential']);
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
