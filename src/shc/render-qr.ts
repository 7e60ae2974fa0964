import QRCode, { type QRCodeSegment } from 'qrcode';
import { failWith } from '../errors.js';
import { QR_ERROR_CORRECTION } from '../qr.js';

const badQr = failWith('ERR_SHC_QR');

export interface RenderedQr {
  svg: string;
  /** data:image/png;base64,... */
  png: string;
}

/**
 * Draws a card QR the way the spec asks: two segments, byte mode for the prefix (`shc:/`, or
 * `shc:/i/n/` for a chunk) and numeric mode for the digits, error correction L (the level the
 * 1195-character single-QR limit assumes), and the standard 4-module quiet zone. For the spec's
 * example card this gives the published SVG byte for byte.
 */
export async function renderCardQr(numeric: string): Promise<RenderedQr> {
  const m = /^(shc:\/(?:\d+\/\d+\/)?)(\d+)$/.exec(numeric);
  if (!m) throw badQr('Not a numeric SMART Health Card QR text');
  const segments: QRCodeSegment[] = [
    { mode: 'byte', data: Buffer.from(m[1] as string, 'ascii') },
    { mode: 'numeric', data: m[2] as string },
  ];
  const [svg, png] = await Promise.all([
    QRCode.toString(segments, { type: 'svg', errorCorrectionLevel: QR_ERROR_CORRECTION.card }),
    QRCode.toDataURL(segments, { errorCorrectionLevel: QR_ERROR_CORRECTION.card }),
  ]);
  return { svg, png };
}
