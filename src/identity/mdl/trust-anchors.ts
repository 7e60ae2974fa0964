import { ExtendedKeyUsageExtension, X509Certificate } from '@peculiar/x509';
import type { MdlConfig } from '../../config.js';

/** ISO 18013-5 Annex B: a document signer certificate carries this extended key usage. */
export const MDL_DS_EKU = '1.0.18013.5.1.2';

export interface TrustAnchor {
  pem: string;
  certificate: X509Certificate;
  /** The identity issuer for mDLs under this IACA: stable while the IACA keeps its key. */
  issuer: string;
  ial: number;
  aal: number;
}

export async function loadTrustAnchors(config: MdlConfig): Promise<TrustAnchor[]> {
  return Promise.all(
    config.trustAnchors.map(async (a) => {
      const pem = typeof a === 'string' ? a : a.certificate;
      const certificate = new X509Certificate(pem);
      const spki = Buffer.from(await certificate.publicKey.getThumbprint('SHA-256')).toString('base64url');
      return {
        pem,
        certificate,
        issuer: `urn:ktc-gateway:mdl-iaca:${spki}`,
        ial: (typeof a === 'string' ? undefined : a.ial) ?? config.ial,
        aal: (typeof a === 'string' ? undefined : a.aal) ?? config.aal,
      };
    }),
  );
}

function within(cert: X509Certificate, at: Date): boolean {
  return cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
}

/**
 * The anchor that signed this document signer certificate, with both valid at `at` (the gateway's
 * clock) and the DS certificate marked for mDL signing; undefined otherwise. The library checks the
 * chain as well; this names which IACA it is and applies the injected clock.
 */
export async function anchorFor(ds: X509Certificate, anchors: TrustAnchor[], at: Date): Promise<{ anchor?: TrustAnchor; problem?: string }> {
  const eku = ds.getExtension(ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.map(String).includes(MDL_DS_EKU)) return { problem: 'The document signer certificate is not marked for mDL signing' };
  if (!within(ds, at)) return { problem: 'The document signer certificate is not valid now' };
  for (const anchor of anchors) {
    if (ds.issuer !== anchor.certificate.subject) continue;
    if (!(await ds.verify({ publicKey: anchor.certificate.publicKey, signatureOnly: true }))) continue;
    if (!within(anchor.certificate, at)) return { problem: 'The IACA certificate is not valid now' };
    return { anchor };
  }
  return { problem: 'The document signer is not issued by a trusted IACA' };
}
