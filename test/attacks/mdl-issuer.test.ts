import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { DeviceResponse, Document, MDoc } from '@auth0/mdl';
import { cborDecode, cborEncode } from '@auth0/mdl/lib/cbor/index.js';
import * as x509 from '@peculiar/x509';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { DomainError } from '../../src/errors.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { dcApiSessionTranscript, sessionTranscriptBytes } from '../../src/identity/mdl/session-transcript.js';
import { loadTrustAnchors, MDL_DS_EKU } from '../../src/identity/mdl/trust-anchors.js';
import { verifyDeviceResponse } from '../../src/identity/mdl/verify-presentation.js';
import { ALICE, makeIaca, type TestIaca } from '../identity/mdl-wallet.js';

/**
 * Attacks on what the issuer signed (held): another doctype, two documents, a missing element, a
 * document signer without the mDL EKU or not issued by the IACA it names, a leaf configured as IACA,
 * and garbage CBOR (refused quickly, 401).
 */
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600_000;
const ORIGIN = 'https://gateway.example';
const NONCE = 'i-'.padEnd(43, 'x');
const MDL = 'org.iso.18013.5.1.mDL';
const FIVE = ['family_name', 'given_name', 'birth_date', 'document_number', 'issuing_authority'];
const clock = new ManualClock(Date.now());

type Signer = { pem: string; privateJwk: JWK };

async function wallet(ds: Signer, doctype: string, fields = FIVE): Promise<Uint8Array> {
  const device = await generateKeyPair('ES256', { extractable: true });
  const doc = await new Document(doctype)
    .addIssuerNameSpace('org.iso.18013.5.1', { ...ALICE })
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo({ signed: new Date(clock.now() - DAY), validFrom: new Date(clock.now() - DAY), validUntil: new Date(clock.now() + DAY) })
    .addDeviceKeyInfo({ deviceKey: await exportJWK(device.publicKey) })
    .sign({ issuerPrivateKey: ds.privateJwk, issuerCertificate: ds.pem, alg: 'ES256' });
  const pd = {
    id: 'x',
    input_descriptors: [
      {
        id: doctype,
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: { limit_disclosure: 'required' as const, fields: fields.map((f) => ({ path: [`$['org.iso.18013.5.1']['${f}']`], intent_to_retain: false })) },
      },
    ],
  };
  const response = await DeviceResponse.from(new MDoc([doc]).encode())
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(sessionTranscriptBytes(dcApiSessionTranscript(ORIGIN, NONCE)))
    .authenticateWithSignature(await exportJWK(device.privateKey), 'ES256')
    .sign();
  return response.encode();
}

async function certificate(o: { subject: string; issuer: string; signingKey: CryptoKey; ca: boolean; eku?: string[] }): Promise<Signer & { keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a',
    subject: o.subject,
    issuer: o.issuer,
    notBefore: new Date(clock.now() - DAY),
    notAfter: new Date(clock.now() + 100 * DAY),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: o.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(o.ca, undefined, true),
      new x509.KeyUsagesExtension(o.ca ? x509.KeyUsageFlags.keyCertSign : x509.KeyUsageFlags.digitalSignature, true),
      ...(o.eku ? [new x509.ExtendedKeyUsageExtension(o.eku, true)] : []),
    ],
  });
  return { pem: cert.toString('pem'), privateJwk: (await webcrypto.subtle.exportKey('jwk', keys.privateKey)) as JWK, keys };
}

describe('mDL issuer-side attacks', () => {
  let iaca: TestIaca;
  const verify = async (bytes: Uint8Array, anchorPems = [iaca.pem]) =>
    verifyDeviceResponse(bytes, { origin: ORIGIN, nonce: NONCE, anchors: await loadTrustAnchors({ trustAnchors: anchorPems, ial: 2, aal: 2 } as never), clock });
  const refused = (p: Promise<unknown>, why: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === 'ERR_MDL_PRESENTATION' && httpErrorOf(e).status === 401 && why.test(e.message));

  before(async () => {
    iaca = await makeIaca('Issuer DMV', clock.now());
  });

  test('control: the trusted issuer and doctype verify', async () => {
    assert.equal((await verify(await wallet(iaca.ds, MDL))).claims.documentNumber, ALICE.document_number);
  });

  test('another doctype from the same IACA, two documents, a missing family_name', async () => {
    await refused(verify(await wallet(iaca.ds, 'org.iso.23220.photoid.1')), /not a org\.iso\.18013\.5\.1\.mDL/);
    const one = cborDecode(await wallet(iaca.ds, MDL)) as Map<string, unknown>;
    const other = cborDecode(await wallet(iaca.ds, MDL)) as Map<string, unknown>;
    one.set('documents', [...(one.get('documents') as unknown[]), ...(other.get('documents') as unknown[])]);
    await refused(verify(cborEncode(one)), /exactly one document/);
    await refused(verify(await wallet(iaca.ds, MDL, FIVE.slice(1))), /must disclose family_name/);
  });

  test('a document signer without the mDL EKU, or naming the IACA but signed by another key', async () => {
    const noEku = await certificate({ subject: 'C=US, ST=CA, O=Issuer DMV, CN=No EKU', issuer: iaca.subject, signingKey: iaca.keys.privateKey, ca: false });
    await refused(verify(await wallet(noEku, MDL)), /not marked for mDL signing/);
    const rogue = await makeIaca('Rogue');
    const impostor = await certificate({
      subject: 'C=US, ST=CA, O=Issuer DMV, CN=Impostor',
      issuer: iaca.subject,
      signingKey: rogue.keys.privateKey,
      ca: false,
      eku: [MDL_DS_EKU],
    });
    await refused(verify(await wallet(impostor, MDL)), /Issuer certificate must be valid|not issued by a trusted IACA/);
  });

  test('a leaf (not a CA) configured as the IACA does not make its children trusted', async () => {
    const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leafSubject = 'C=US, ST=CA, O=Leaf, CN=Leaf';
    const leaf = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0b',
      name: leafSubject,
      notBefore: new Date(clock.now() - DAY),
      notAfter: new Date(clock.now() + 100 * DAY),
      signingAlgorithm: EC,
      keys: leafKeys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    const child = await certificate({ subject: 'C=US, ST=CA, O=Leaf, CN=Child', issuer: leafSubject, signingKey: leafKeys.privateKey, ca: false, eku: [MDL_DS_EKU] });
    await refused(verify(await wallet(child, MDL), [leaf.toString('pem')]), /Issuer certificate must be valid|not issued by a trusted IACA/);
  });

  test('garbage CBOR is a quick 401, never a crash', async () => {
    const garbage = [
      Buffer.from(webcrypto.getRandomValues(new Uint8Array(48_000))),
      Buffer.alloc(48_000, 0x81),
      Buffer.concat([Buffer.alloc(47_999, 0xa1), Buffer.from([0])]),
      Buffer.from([0x5b, 0, 0, 0, 1, 0, 0, 0, 0]),
      Buffer.from([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]),
      Buffer.from([0xa0]),
      cborEncode(
        new Map<string, unknown>([
          ['version', '1.0'],
          ['documents', null],
        ]),
      ),
    ];
    for (const bytes of garbage) await refused(verify(bytes), /not a well-formed DeviceResponse|not accepted/);
  });
});
