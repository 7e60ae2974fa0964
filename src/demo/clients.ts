import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ClientConfig } from '../config.js';

/**
 * The demo's SMART Backend Services clients: a kiosk and an EHR of the demo clinic, and an aligned
 * network. Each has its own ES384 key pair; the gateway trusts the public halves (inline JWKS) and
 * the demo asks /auth/token for access tokens with signed client assertions, as a real client does.
 */

export const DEMO_CLINIC = 'Demo Clinic';
/**
 * The aligned network subscribes inside the clinic's organization today. For a cross-organization
 * subscription, give it its own organization, a `dataSharing` agreement from the clinic, a
 * purpose of use in its assertion and a patient filter on the Subscription (see network.ts).
 */
export const DEMO_NETWORK_ORGANIZATION = DEMO_CLINIC;

export type DemoRole = 'kiosk' | 'ehr' | 'network';

export const DEMO_KIOSK_CLIENT_ID = 'demo-kiosk';

const REGISTRATIONS: Record<DemoRole, Omit<ClientConfig, 'jwks' | 'jwksUri'>> = {
  kiosk: { clientId: DEMO_KIOSK_CLIENT_ID, organization: DEMO_CLINIC, scopes: ['system/checkin.write', 'system/checkin.read'] },
  ehr: { clientId: 'demo-ehr', organization: DEMO_CLINIC, scopes: ['system/checkin.read', 'system/visit.write', 'system/visit.read'] },
  network: { clientId: 'demo-network', organization: DEMO_NETWORK_ORGANIZATION, scopes: ['system/Subscription.write', 'system/Subscription.read'] },
};

export interface DemoClient {
  role: DemoRole;
  registration: ClientConfig;
  /** The private key as a JWK, written to the demo directory so `curl` users can sign their own assertions. */
  privateJwk: JWK;
  privateKey: CryptoKey;
}

export async function createDemoClients(): Promise<DemoClient[]> {
  return Promise.all(
    (Object.keys(REGISTRATIONS) as DemoRole[]).map(async (role) => {
      const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
      const kid = `${REGISTRATIONS[role].clientId}-1`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
      return {
        role,
        registration: { ...REGISTRATIONS[role], jwks: { keys: [publicJwk] } },
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES384' },
        privateKey,
      };
    }),
  );
}

/** SMART Backend Services: a client assertion for the gateway's token endpoint, then the token. */
export async function requestAccessToken(gatewayUrl: string, client: DemoClient): Promise<string> {
  const tokenUrl = `${gatewayUrl}/auth/token`;
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES384', kid: client.privateJwk.kid as string, typ: 'JWT' })
    .setIssuer(client.registration.clientId)
    .setSubject(client.registration.clientId)
    .setAudience(tokenUrl)
    .setIssuedAt()
    .setExpirationTime('4m')
    .sign(client.privateKey);
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: client.registration.scopes.join(' '),
    }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`the ${client.role} client got no access token: ${res.status} ${body.error_description ?? ''}`);
  return body.access_token;
}
