import type { Bundle } from '@medplum/fhirtypes';
import { CompactSign } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKey } from '../keys/keystore.js';
import type { SmartHealthCardFile } from './card-input.js';
import { deflateCardPayload } from './deflate.js';
import { minifyBundle } from './minify.js';
import { encodeNumericQr, SINGLE_QR_MAX_JWS } from './numeric-qr.js';
import { FHIR_VERSION } from '../fhir/version.js';
import { HEALTH_CARD_TYPE, type ShcPayload } from './types.js';

export interface IssuedCard {
  jws: string;
  /** Whether the card fits one QR (JWS of at most 1195 characters); chunked QRs are deprecated, so larger cards get none. */
  fitsSingleQr: boolean;
  /** `shc:/<digits>`, when it fits one QR. */
  qrNumeric?: string;
  /** The `.smart-health-card` file body. */
  file: SmartHealthCardFile;
}

export interface IssueOptions {
  key: Pick<SigningKey, 'kid' | 'privateKey'>;
  /** The gateway's public base URL: the card's iss, whose /.well-known/jwks.json publishes the key. */
  publicBaseUrl: string;
  clock: Clock;
}

/** Signs a Bundle as a SMART Health Card: minified, raw-DEFLATEd, ES256 with the gateway key. */
export async function issueCard(bundle: Bundle, opts: IssueOptions): Promise<IssuedCard> {
  const payload: ShcPayload = {
    iss: opts.publicBaseUrl.replace(/\/+$/, ''),
    nbf: Math.floor(opts.clock.now() / 1000),
    vc: {
      type: [HEALTH_CARD_TYPE],
      credentialSubject: { fhirVersion: FHIR_VERSION, fhirBundle: minifyBundle(bundle) },
    },
  };
  const jws = await new CompactSign(deflateCardPayload(Buffer.from(JSON.stringify(payload))))
    .setProtectedHeader({ zip: 'DEF', alg: 'ES256', kid: opts.key.kid })
    .sign(opts.key.privateKey);
  const fitsSingleQr = jws.length <= SINGLE_QR_MAX_JWS;
  return { jws, fitsSingleQr, ...(fitsSingleQr ? { qrNumeric: encodeNumericQr(jws) } : {}), file: { verifiableCredential: [jws] } };
}
