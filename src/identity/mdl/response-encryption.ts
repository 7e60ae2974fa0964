import { base64url, calculateJwkThumbprint, compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { DomainError } from '../../errors.js';
import { open, seal } from '../../keys/envelope.js';
import { RESPONSE_ENC_VALUES } from './request.js';

/** A request's ephemeral key for dc_api.jwt: the public JWK for the request, the private one to keep. */
export interface ResponseKey {
  publicJwk: JWK;
  /** Stored with the request (sealed when a key-encryption key is configured). */
  stored: string;
}

export async function newResponseKey(encryptionKey: string | undefined): Promise<ResponseKey> {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, kid, use: 'enc', alg: 'ECDH-ES' };
  const priv = JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ECDH-ES' });
  return { publicJwk, stored: encryptionKey ? seal(priv, encryptionKey) : priv };
}

/**
 * Opens the wallet's JWE (alg ECDH-ES to the request's key, enc from the request's list) and returns
 * its payload and the key's RFC 7638 thumbprint, which the SessionTranscript then carries.
 */
export async function openEncryptedResponse(jwe: string, stored: string, encryptionKey: string | undefined): Promise<{ payload: unknown; thumbprint: Uint8Array }> {
  const privateJwk = JSON.parse(stored.startsWith('{') ? stored : open(stored, encryptionKey ?? '')) as JWK;
  const { d: _d, ...publicJwk } = privateJwk;
  const thumbprint = base64url.decode(await calculateJwkThumbprint({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y } as JWK, 'sha256'));
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(jwe, await importJWK(privateJwk, 'ECDH-ES'), { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: RESPONSE_ENC_VALUES }));
  } catch {
    throw new DomainError('ERR_MDL_PRESENTATION', "The mobile driver's licence was not accepted: the encrypted response does not open with this request's key");
  }
  try {
    return { payload: JSON.parse(new TextDecoder().decode(plaintext)) as unknown, thumbprint };
  } catch {
    throw new DomainError('ERR_MDL_MALFORMED', 'The encrypted response is not JSON', { expression: ['identityPresentation.data.response'] });
  }
}
