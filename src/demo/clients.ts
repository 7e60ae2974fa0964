import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ClientConfig } from '../config.js';

/**
 * The demo's SMART Backend Services clients: a kiosk and an EHR of the demo clinic, and an aligned
 * network of its own organization. Each has its own ES384 key pair; the gateway trusts the public
 * halves (inline JWKS) and the demo asks /auth/token for access tokens with signed client
 * assertions, as a real client does. The network's assertion states its purpose of use.
 */

export const DEMO_CLINIC = 'Demo Clinic';
/** The aligned network (an HIE): another organization, receiving the clinic's events under an agreement. */
export const DEMO_NETWORK_ORGANIZATION = 'Demo HIE';
/** What the network asks for in its assertion and what the clinic's agreement grants it. */
export const DEMO_NETWORK_PURPOSE = 'TREAT';

/** The clinic shares its patients' encounters with the network for treatment (trust file `dataSharing`). */
export const DEMO_DATA_SHARING = [{ from: DEMO_CLINIC, to: DEMO_NETWORK_ORGANIZATION, purposes: [DEMO_NETWORK_PURPOSE] }];

export type DemoRole = 'kiosk' | 'ehr' | 'network';

export const DEMO_KIOSK_CLIENT_ID = 'demo-kiosk';

const REGISTRATIONS: Record<DemoRole, Omit<ClientConfig, 'jwks' | 'jwksUri'>> = {
  kiosk: { clientId: DEMO_KIOSK_CLIENT_ID, organization: DEMO_CLINIC, scopes: ['system/checkin.write', 'system/checkin.read'] },
  ehr: { clientId: 'demo-ehr', organization: DEMO_CLINIC, scopes: ['system/checkin.read', 'system/visit.write', 'system/visit.read'] },
  network: {
    clientId: 'demo-network',
    organization: DEMO_NETWORK_ORGANIZATION,
    scopes: ['system/Subscription.write', 'system/Subscription.read', 'system/Encounter.read', 'system/Patient.read'],
  },
};

/** The UDAP B2B extension (`extensions.hl7-b2b`) a client of another organization puts in its assertion. */
function b2bExtension(purposes: readonly string[]): Record<string, unknown> {
  if (purposes.length === 0) return {};
  return {
    extensions: {
      'hl7-b2b': {
        version: '1',
        organization_name: DEMO_NETWORK_ORGANIZATION,
        organization_id: 'urn:example:demo-hie',
        purpose_of_use: purposes.map((code) => `urn:oid:2.16.840.1.113883.5.8#${code}`),
      },
    },
  };
}

/** The purposes a client states by default: the network its agreed one, the clinic's own clients none. */
export const defaultPurposes = (role: DemoRole): string[] => (role === 'network' ? [DEMO_NETWORK_PURPOSE] : []);

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

export interface TokenAnswer {
  status: number;
  body: { access_token?: string; error?: string; error_description?: string };
}

/** SMART Backend Services: a client assertion (with these purposes of use) for the gateway's token endpoint, and its answer. */
export async function tokenRequest(gatewayUrl: string, client: DemoClient, purposes: readonly string[] = defaultPurposes(client.role)): Promise<TokenAnswer> {
  const tokenUrl = `${gatewayUrl}/auth/token`;
  const assertion = await new SignJWT({ jti: randomUUID(), ...b2bExtension(purposes) })
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
  return { status: res.status, body: (await res.json()) as TokenAnswer['body'] };
}

/** The access token of tokenRequest's answer, or why there is none. */
export async function requestAccessToken(gatewayUrl: string, client: DemoClient): Promise<string> {
  const { status, body } = await tokenRequest(gatewayUrl, client);
  if (status !== 200 || !body.access_token) throw new Error(`the ${client.role} client got no access token: ${status} ${body.error_description ?? ''}`);
  return body.access_token;
}
