import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/db.js';
import { DomainError } from '../../errors.js';
import { once } from '../../once.js';
import type { VerifiedIdentity } from '../types.js';
import { vpTokenSchema, type IdentityPresentation } from './presentation.js';
import { IDENTITY_REQUEST_TTL_SECONDS, dcApiRequest, type DcApiRequest } from './request.js';
import { consumeRequest, createRequest, openRequest, type RequestOwner, type StoredRequest } from './request-store.js';
import { newResponseKey, openEncryptedResponse } from './response-encryption.js';
import { mdlSubject, subjectSalt } from './subject.js';

export interface IdentityRequestView {
  id: string;
  expiresAt: string;
  request: DcApiRequest;
}

export interface MdlIdentity {
  /** A new single-use request for this owner, in the Digital Credentials API form. */
  newRequest(owner: RequestOwner): Promise<IdentityRequestView>;
  /** Verifies a presentation answering one of the owner's open requests, and uses the request up. */
  verify(p: IdentityPresentation, owner: RequestOwner): Promise<VerifiedIdentity>;
}

export interface MdlIdentityDeps {
  config: Config;
  db: Db;
  clock: Clock;
}

const notConfigured = () =>
  new DomainError('ERR_MDL_NOT_CONFIGURED', "This gateway does not accept mobile driver's licences (no mdl trust anchors are configured)", {
    expression: ['identityPresentation'],
  });
const malformed = (why: string, at: string) => new DomainError('ERR_MDL_MALFORMED', why, { expression: [at] });

/**
 * The gateway's origin as a browser reports it to the wallet (scheme://host[:port], default port
 * dropped): the DC API binds the presentation to it in place of a client_id.
 */
export function originOf(publicBaseUrl: string): string {
  return new URL(publicBaseUrl).origin;
}

/** The vp_token of the answer, opened first when the request asked for an encrypted (dc_api.jwt) one. */
async function answerOf(
  p: IdentityPresentation,
  request: StoredRequest,
  encryptionKey: string | undefined,
): Promise<{ vpToken: Record<string, string[]>; thumbprint?: Uint8Array }> {
  if (!request.responseKey) {
    if (!p.data.vp_token) throw malformed('This identity request asked for an unencrypted answer (vp_token)', 'identityPresentation.data');
    return { vpToken: p.data.vp_token };
  }
  if (!p.data.response) throw malformed('This identity request asked for an encrypted answer (response, a JWE)', 'identityPresentation.data');
  const { payload, thumbprint } = await openEncryptedResponse(p.data.response, request.responseKey, encryptionKey);
  const vpToken = vpTokenSchema.safeParse((payload as { vp_token?: unknown } | null)?.vp_token);
  if (!vpToken.success) throw malformed('The encrypted answer holds no valid vp_token', 'identityPresentation.data.response');
  return { vpToken: vpToken.data, thumbprint };
}

/**
 * The certificate and mdoc libraries (@peculiar/x509, @auth0/mdl) load with the first presentation
 * or trust-anchor use, not at start: about 220 ms and their memory, for a gateway that may never
 * see an mDL.
 */
const verification = once(() => import('./verify-presentation.js'));

export function createMdlIdentity(d: MdlIdentityDeps): MdlIdentity {
  const mdl = d.config.trust.mdl;
  const origin = originOf(d.config.publicBaseUrl);
  const anchorsOnce = once(() => import('./trust-anchors.js').then((m) => m.loadTrustAnchors(mdl!)));
  const saltOnce = once(() => subjectSalt(d.db, mdl?.subjectSalt, d.config.keyEncryptionKey));

  return {
    async newRequest(owner) {
      if (!mdl) throw notConfigured();
      const now = new Date(d.clock.now());
      const key = mdl.encryptResponses ? await newResponseKey(d.config.keyEncryptionKey) : undefined;
      const r = await createRequest(d.db, owner, { expiresAt: new Date(now.getTime() + IDENTITY_REQUEST_TTL_SECONDS * 1000), now }, key?.stored);
      return { id: r.id, expiresAt: r.expiresAt.toISOString(), request: dcApiRequest(r.nonce, key?.publicJwk as Record<string, unknown> | undefined) };
    },
    async verify(p, owner) {
      if (!mdl) throw notConfigured();
      const { assertProtocol, deviceResponseOf, identityOf, verifyDeviceResponse } = await verification();
      assertProtocol(p);
      const now = new Date(d.clock.now());
      const request = await openRequest(d.db, p.requestId, owner, now);
      const { vpToken, thumbprint } = await answerOf(p, request, d.config.keyEncryptionKey);
      const verified = await verifyDeviceResponse(deviceResponseOf(vpToken), {
        origin,
        nonce: request.nonce,
        ...(thumbprint ? { jwkThumbprint: thumbprint } : {}),
        anchors: await anchorsOnce(),
        clock: d.clock,
      });
      // Used up only by a presentation that verified, so garbage cannot burn a kiosk's request;
      // the atomic update lets exactly one of two racing copies through.
      if (!(await consumeRequest(d.db, request.id, now))) throw new DomainError('ERR_MDL_REQUEST_USED', 'This identity request has already been answered; ask for a new one');
      return identityOf(verified, mdlSubject(await saltOnce(), verified.anchor.issuer, verified.claims.documentNumber));
    },
  };
}
