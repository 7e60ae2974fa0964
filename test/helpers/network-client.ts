import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import request from 'supertest';
import type { ClientConfig } from '../../src/config.js';
import type { TestGateway } from './gateway.js';

export const NETWORK_SCOPES = ['system/Subscription.read', 'system/Subscription.write', 'system/Encounter.read', 'system/Appointment.read', 'system/Patient.read'];

export interface NetworkClient {
  config: ClientConfig;
  /**
   * POSTs /auth/token with an ES384 client assertion, carrying the UDAP B2B extension with these
   * purpose_of_use entries when given (as spelled: `urn:oid:...#TREAT` or the v3-ActReason URI).
   */
  requestToken(gw: TestGateway, purposeOfUse?: string[]): Promise<request.Response>;
  /** requestToken, insisting on 200; the access token. */
  token(gw: TestGateway, purposeOfUse?: string[]): Promise<string>;
}

/** A registered SMART Backend Services client of an aligned network, with its own ES384 key. */
export async function networkClient(clientId: string, organization: string, scopes = NETWORK_SCOPES): Promise<NetworkClient> {
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const kid = `${clientId}-${base64url.encode(crypto.getRandomValues(new Uint8Array(6)))}`;
  const config: ClientConfig = { clientId, organization, scopes, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid }] } };
  const assertion = (gw: TestGateway, purposeOfUse: string[] | undefined) =>
    sign(privateKey, kid, clientId, organization, `${gw.services.config.publicBaseUrl}/auth/token`, gw.services.clock.now(), purposeOfUse);
  const client: NetworkClient = {
    config,
    async requestToken(gw, purposeOfUse) {
      return request(gw.app)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(gw, purposeOfUse),
          scope: scopes.join(' '),
        });
    },
    async token(gw, purposeOfUse) {
      const r = await client.requestToken(gw, purposeOfUse);
      if (r.status !== 200) throw new Error(`token for ${clientId}: ${r.status} ${r.text}`);
      return r.body.access_token as string;
    },
  };
  return client;
}

async function sign(key: CryptoKey, kid: string, clientId: string, organization: string, aud: string, nowMs: number, purposeOfUse: string[] | undefined): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const b2b = purposeOfUse
    ? { extensions: { 'hl7-b2b': { version: '1', organization_name: organization, organization_id: `urn:example:org:${clientId}`, purpose_of_use: purposeOfUse } } }
    : {};
  return new SignJWT({ jti: crypto.randomUUID(), ...b2b })
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 240)
    .sign(key);
}

/** A patient's Consent letting `organization` receive their encounter notifications: the demo's, one builder. */
export { patientConsent } from '../../src/demo/network.js';
