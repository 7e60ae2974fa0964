import { webcrypto } from 'node:crypto';
import { DataItem, DeviceResponse, Document, MDoc, Verifier } from '@auth0/mdl';
import { cborDecode, cborEncode } from '@auth0/mdl/lib/cbor/index.js';
import * as x509 from '@peculiar/x509';
import { CompactEncrypt, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { MDL_DS_EKU } from '../../src/identity/mdl/trust-anchors.js';
import type { DcApiRequest } from '../../src/identity/mdl/request.js';
import { dcApiSessionTranscript, sessionTranscriptBytes } from '../../src/identity/mdl/session-transcript.js';

/**
 * A test issuing authority and wallet made with the libraries real issuers and wallets use:
 * @peculiar/x509 for the IACA root and document signer certificates, @auth0/mdl for the mDL
 * (MSO signed by the DS) and for the DeviceResponse the wallet signs with the holder's device key.
 */

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600_000;

export interface TestIaca {
  pem: string;
  subject: string;
  keys: CryptoKeyPair;
  /** A document signer certificate under this IACA, and its private key as a JWK. */
  ds: { pem: string; privateJwk: JWK };
}

export async function makeIaca(name = 'Test State DMV', now = Date.now()): Promise<TestIaca> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const subject = `C=US, ST=CA, O=${name}, CN=${name} IACA Root`;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subject,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 5 * 365 * DAY),
    signingAlgorithm: EC,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const dsKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ds = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `C=US, ST=CA, O=${name}, CN=${name} Document Signer`,
    issuer: root.subject,
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now + 365 * DAY),
    signingAlgorithm: EC,
    publicKey: dsKeys.publicKey,
    signingKey: keys.privateKey,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([MDL_DS_EKU], true)],
  });
  return { pem: root.toString('pem'), subject, keys, ds: { pem: ds.toString('pem'), privateJwk: (await webcrypto.subtle.exportKey('jwk', dsKeys.privateKey)) as JWK } };
}

export interface Holder {
  family_name: string;
  given_name: string;
  birth_date: string;
  document_number: string;
  issuing_authority: string;
}

export const ALICE: Holder = { family_name: 'Rivera', given_name: 'Alice Marie', birth_date: '1984-03-02', document_number: 'D1234567', issuing_authority: 'Test State DMV' };

/** An mDL in a wallet: the issuer-signed document and the holder's device key. */
export interface TestMdl {
  encoded: Uint8Array;
  devicePrivateJwk: JWK;
}

export async function issueMdl(iaca: TestIaca, holder: Holder, validity: { from: Date; until: Date; signed?: Date }): Promise<TestMdl> {
  const device = await generateKeyPair('ES256', { extractable: true });
  const doc = await new Document('org.iso.18013.5.1.mDL')
    .addIssuerNameSpace('org.iso.18013.5.1', { ...holder, portrait: 'not requested', resident_address: '1 Main St' })
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo({ signed: validity.signed ?? validity.from, validFrom: validity.from, validUntil: validity.until })
    .addDeviceKeyInfo({ deviceKey: await exportJWK(device.publicKey) })
    .sign({ issuerPrivateKey: iaca.ds.privateJwk, issuerCertificate: iaca.ds.pem, alg: 'ES256' });
  return { encoded: new MDoc([doc]).encode(), devicePrivateJwk: await exportJWK(device.privateKey) };
}

/** The wallet's side: disclose what the DCQL query asks for, device-signed over the DC API SessionTranscript. */
export async function present(mdl: TestMdl, request: DcApiRequest, origin: string, jwkThumbprint: Uint8Array | null = null): Promise<Uint8Array> {
  const q = request.data.dcql_query.credentials[0]!;
  const pd = {
    id: 'dcql',
    input_descriptors: [
      {
        id: q.meta.doctype_value,
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: {
          limit_disclosure: 'required' as const,
          fields: q.claims.map((c) => ({ path: [`$['${c.path[0]}']['${c.path[1]}']`], intent_to_retain: c.intent_to_retain })),
        },
      },
    ],
  };
  const response = await DeviceResponse.from(mdl.encoded)
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(sessionTranscriptBytes(dcApiSessionTranscript(origin, request.data.nonce, jwkThumbprint)))
    .authenticateWithSignature(mdl.devicePrivateJwk, 'ES256')
    .sign();
  return response.encode();
}

/**
 * A wallet answering a dc_api.jwt request (OpenID4VP 1.0 §8.3): the SessionTranscript carries the
 * thumbprint of the request's key, and the vp_token travels as a JWE (ECDH-ES, A128GCM) to that key.
 */
export async function presentEncrypted(mdl: TestMdl, requestId: string, request: DcApiRequest, origin: string, to?: JWK) {
  const key = (to ?? request.data.client_metadata!.jwks.keys[0]) as JWK;
  const thumbprint = base64url.decode(await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y } as JWK, 'sha256'));
  const bytes = await present(mdl, request, origin, thumbprint);
  const payload = new TextEncoder().encode(JSON.stringify({ vp_token: { mdl: [Buffer.from(bytes).toString('base64url')] } }));
  const response = await new CompactEncrypt(payload).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM', kid: key.kid }).encrypt(await importJWK(key, 'ECDH-ES'));
  return { requestId, protocol: 'openid4vp-v1-unsigned', data: { response } };
}

/** What navigator.credentials.get() hands the page, as the gateway wants it back. */
export function identityPresentation(requestId: string, deviceResponse: Uint8Array) {
  return { requestId, protocol: 'openid4vp-v1-unsigned', data: { vp_token: { mdl: [Buffer.from(deviceResponse).toString('base64url')] } } };
}

/** The library's own verifier, as a self-check that the test credentials are sound. */
export async function selfCheck(deviceResponse: Uint8Array, iaca: TestIaca, origin: string, nonce: string): Promise<void> {
  await new Verifier([iaca.pem]).verify(deviceResponse, { encodedSessionTranscript: sessionTranscriptBytes(dcApiSessionTranscript(origin, nonce)) });
}

/** Changes one disclosed, issuer-signed element after signing (its digest no longer matches). */
export function tamper(deviceResponse: Uint8Array, element: string, value: string): Uint8Array {
  const dr = cborDecode(deviceResponse) as Map<string, unknown>;
  const doc = (dr.get('documents') as Map<string, unknown>[])[0]!;
  const items = ((doc.get('issuerSigned') as Map<string, unknown>).get('nameSpaces') as Map<string, DataItem<Map<string, unknown>>[]>).get('org.iso.18013.5.1')!;
  const i = items.findIndex((it) => it.data.get('elementIdentifier') === element);
  const changed = new Map(items[i]!.data);
  changed.set('elementValue', value);
  items[i] = DataItem.fromData(changed);
  return cborEncode(dr);
}
