import type { Clock } from '../clock.js';
import { FHIR_TYPE } from '../shl/receiver.js';
import { renderCardQr } from '../shc/render-qr.js';
import type { Idp } from './idp.js';
import { identityClaims, walletCardBundle, walletHistoryBundle, type DemoPatient } from './patients.js';
import type { DemoShcIssuer } from './shc-issuer.js';
import type { ShlWalletHost } from './shl-wallet-host.js';

/** What the wallet has in hand after the patient signs in: an identity token for the gateway. */
export interface SignedIn {
  identityToken: string;
}

/** The wallet's own QR, for a kiosk to scan: a SMART Health Card (`shc:/…`). */
export interface WalletCardQr {
  qrText: string;
  png: string;
}

/**
 * The demo patient wallet: signs the patient in at the demo identity provider (IAL2/AAL2 ID
 * token), shares their history as a SMART Health Link it hosts, and holds their insurance card as
 * a SMART Health Card from the demo issuer. A real wallet does the sign-in in the browser (OIDC
 * code flow); the demo asks its own provider directly.
 */
export interface DemoWallet {
  signIn(p: DemoPatient): Promise<SignedIn>;
  /** A new link to the patient's health history and insurance card (`shlink:/…`), valid for an hour. */
  shareHistory(p: DemoPatient): Promise<string>;
  healthCard(p: DemoPatient): Promise<WalletCardQr>;
}

const LINK_LIFETIME_SECONDS = 3600;

export function createDemoWallet(d: { idp: Idp; host: ShlWalletHost; issuer: DemoShcIssuer; clock: Clock }): DemoWallet {
  return {
    signIn: async (p) => ({ identityToken: await d.idp.token(identityClaims(p), { now: d.clock.now() }) }),
    shareHistory: (p) =>
      d.host.createLink({
        files: [{ contentType: FHIR_TYPE, content: JSON.stringify(walletHistoryBundle(p)), zip: true }],
        exp: Math.floor(d.clock.now() / 1000) + LINK_LIFETIME_SECONDS,
        label: `Health history of ${p.given[0]} ${p.family}`,
      }),
    async healthCard(p) {
      const card = await d.issuer.sign(walletCardBundle(p));
      if (!card.qrNumeric) throw new Error(`the demo health card of ${p.id} does not fit one QR`);
      return { qrText: card.qrNumeric, png: (await renderCardQr(card.qrNumeric)).png };
    },
  };
}
