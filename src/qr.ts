import QRCode from 'qrcode';

/** A QR code as SVG text and a PNG data URL, for the kiosk or the EHR to show. */
export async function renderQr(text: string, errorCorrectionLevel: 'L' | 'M'): Promise<{ svg: string; png: string }> {
  const [svg, png] = await Promise.all([
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel, margin: 2 }),
    QRCode.toDataURL(text, { errorCorrectionLevel, margin: 2, scale: 6 }),
  ]);
  return { svg, png };
}
