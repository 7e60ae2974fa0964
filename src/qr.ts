import QRCode from 'qrcode';

/**
 * QR error-correction levels. Links (check-in sessions, SMART Health Links) are short and shown on
 * screens and paper, so M; SMART Health Cards use L, the level the spec's 1195-character single-QR
 * limit assumes.
 */
export const QR_ERROR_CORRECTION = { link: 'M', card: 'L' } as const;

/** A link's QR code as SVG text and a PNG data URL, for the kiosk or the EHR to show. */
export async function renderLinkQr(text: string): Promise<{ svg: string; png: string }> {
  const errorCorrectionLevel = QR_ERROR_CORRECTION.link;
  const [svg, png] = await Promise.all([
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel, margin: 2 }),
    QRCode.toDataURL(text, { errorCorrectionLevel, margin: 2, scale: 6 }),
  ]);
  return { svg, png };
}
