import { createHash } from 'node:crypto';
import { DataItem } from '@auth0/mdl';
import { cborEncode } from '@auth0/mdl/lib/cbor/index.js';

export type SessionTranscript = [null, null, [string, Uint8Array]];

/**
 * OpenID4VP 1.0 Appendix B.2.6.2 (invocation via the Digital Credentials API):
 * SessionTranscript = [null, null, ["OpenID4VPDCAPIHandover", sha256(cbor([origin, nonce, jwkThumbprint]))]],
 * the thumbprint null for unencrypted (`dc_api`) responses. The wallet signs over it, so another
 * origin or nonce gives another transcript and the device signature fails.
 */
export function dcApiSessionTranscript(origin: string, nonce: string, jwkThumbprint: Uint8Array | null = null): SessionTranscript {
  const info = cborEncode([origin, nonce, jwkThumbprint]);
  return [null, null, ['OpenID4VPDCAPIHandover', new Uint8Array(createHash('sha256').update(info).digest())]];
}

/** SessionTranscriptBytes (ISO 18013-5 §9.1.5.1: tag 24 around the encoded transcript), as @auth0/mdl takes it. */
export function sessionTranscriptBytes(transcript: SessionTranscript): Buffer {
  return cborEncode(DataItem.fromData(transcript));
}
